// Package native runs trusted plugins out of process with
// hashicorp/go-plugin over gRPC: the same hooks and wire encoding as the
// wasm plugins, for native bridges the operator installs (a scanner that
// talks to clamd, say). The host checks the executable's SHA-256 before
// starting it, restarts it after a crash, and kills it when the host exits.
package native

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/plenum-vote/plenum/sdk"
)

// Handshake is what host and plugin check before talking: a plugin built
// for another protocol version, or a program that is not a Plenum plugin,
// is refused.
func Handshake() goplugin.HandshakeConfig {
	return goplugin.HandshakeConfig{
		ProtocolVersion:  uint(sdk.ABIVersion),
		MagicCookieKey:   "PLENUM_NATIVE_PLUGIN",
		MagicCookieValue: "b1c7a3f0-plenum-hooks",
	}
}

const pluginKey = "hooks"

// The gRPC service is written by hand, with protobuf's BytesValue as
// message, so no code generation is needed: the request is the hook
// number (4 bytes, big-endian) and the wire-encoded input; the response is
// a status byte (0 ok, 1 the handler's error) and the output or message.
const (
	serviceName = "plenum.native.v1.Hooks"
	callMethod  = "/" + serviceName + "/Call"
)

type hookServer interface {
	call(ctx context.Context, req *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error)
}

var serviceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*hookServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Call",
		Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			req := new(wrapperspb.BytesValue)
			if err := dec(req); err != nil {
				return nil, err
			}
			return srv.(hookServer).call(ctx, req)
		},
	}},
	Metadata: "plenum/native/v1",
}

// hooksPlugin is the go-plugin glue on both sides.
type hooksPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	handlers map[sdk.Hook]sdk.Handler // plugin side only
}

func (p *hooksPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	s.RegisterService(&serviceDesc, &server{handlers: p.handlers})
	return nil
}

func (p *hooksPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &rpcClient{conn: c}, nil
}

type server struct {
	handlers map[sdk.Hook]sdk.Handler
}

func (s *server) call(ctx context.Context, req *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error) {
	if len(req.Value) < 4 {
		return nil, errors.New("native: request too short")
	}
	h := sdk.Hook(binary.BigEndian.Uint32(req.Value))
	fn := s.handlers[h]
	if fn == nil {
		return &wrapperspb.BytesValue{Value: append([]byte{2}, "no handler for hook "+h.String()...)}, nil
	}
	out, err := fn(req.Value[4:])
	if err != nil {
		return &wrapperspb.BytesValue{Value: append([]byte{1}, err.Error()...)}, nil
	}
	return &wrapperspb.BytesValue{Value: append([]byte{0}, out...)}, nil
}

type rpcClient struct{ conn *grpc.ClientConn }

// ErrPluginError is a native handler's error; ErrUnknownHook a hook it does
// not implement.
var (
	ErrPluginError = errors.New("native plugin returned an error")
	ErrUnknownHook = errors.New("native plugin does not implement the hook")
)

func (c *rpcClient) call(ctx context.Context, h sdk.Hook, in []byte) ([]byte, error) {
	req := make([]byte, 4, 4+len(in))
	binary.BigEndian.PutUint32(req, uint32(h))
	resp := new(wrapperspb.BytesValue)
	if err := c.conn.Invoke(ctx, callMethod, wrapperspb.Bytes(append(req, in...)), resp); err != nil {
		return nil, err
	}
	if len(resp.Value) == 0 {
		return nil, errors.New("native: empty response")
	}
	switch resp.Value[0] {
	case 0:
		return resp.Value[1:], nil
	case 2:
		return nil, fmt.Errorf("%w: %s", ErrUnknownHook, resp.Value[1:])
	}
	return nil, fmt.Errorf("%w: %s", ErrPluginError, resp.Value[1:])
}

// Serve runs a native plugin: call it from the plugin's main with its
// handlers (sdk's typed Register functions are for wasm; a native plugin
// passes byte-level handlers, e.g. wrapping the same Go functions). It
// returns when the host ends the plugin.
func Serve(handlers map[sdk.Hook]sdk.Handler) {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake(),
		Plugins:         goplugin.PluginSet{pluginKey: &hooksPlugin{handlers: handlers}},
		GRPCServer:      goplugin.DefaultGRPCServer,
	})
}
