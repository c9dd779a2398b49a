// Package config loads the operator's configuration of a Plenum host from,
// in rising precedence, built-in defaults, an optional YAML file, PLENUM_…
// environment variables and command-line flags, and validates it once so
// that a bad value stops start-up with one clear line.
package config

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/plenum-vote/plenum/core/store"
)

// Config is the whole configuration of a host.
type Config struct {
	// DataDir holds the SQLite database, the generated keys and other
	// local state. Default "./data".
	DataDir string `yaml:"data_dir"`
	// Listen is the address the HTTP server binds. Default
	// "127.0.0.1:8080": loopback only until the operator says otherwise.
	Listen string `yaml:"listen"`
	// BaseURL is the public URL members reach; default http://{Listen}.
	BaseURL string `yaml:"base_url"`
	// Database selects the engine; default SQLite at {DataDir}/plenum.db.
	Database Database `yaml:"database"`
	// MasterKeyFile holds the master key; default {DataDir}/master.key,
	// generated on first start. MasterKey (environment only) overrides it.
	MasterKeyFile string `yaml:"master_key_file"`
	// MasterKey is the base64 master key from PLENUM_MASTER_KEY. It is not
	// read from the file or flags so that it is never written to disk by
	// accident.
	MasterKey string `yaml:"-"`
	// AuditKeyFile holds the ed25519 key that signs audit checkpoints;
	// default {DataDir}/audit-signing.key, generated on first start.
	AuditKeyFile string `yaml:"audit_key_file"`
	// CheckpointInterval is how often audit chains are checkpointed.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// TrustedProxies lists CIDRs whose X-Forwarded-For is believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// HostTenants lets a tenant be reached by a host name of its own.
	HostTenants bool `yaml:"host_tenants"`
	// Demo creates a demo tenant on first start.
	Demo bool `yaml:"demo"`
	// Backups runs the daily encrypted backup into {DataDir}/backups,
	// verified by a restore into a scratch database, kept 30 days
	// (PLENUM_BACKUPS; default on).
	Backups bool `yaml:"backups"`
	// PluginTrustedKeys are the base64 ed25519 public keys whose plugin
	// signatures the operator accepts.
	PluginTrustedKeys []string `yaml:"plugin_trusted_keys"`
	// Mail configures outgoing e-mail (invitations, reset links, notices).
	Mail Mail `yaml:"mail"`
	// Redis, when set, holds sign-in attempt counters shared by several
	// hosts; without it they are kept in the database.
	Redis Redis `yaml:"redis"`
	// SMS, when set, sends one-time codes by text message through a
	// gateway (see host/sms); tenants still decide whether to allow them.
	SMS SMS `yaml:"sms"`
	// SSOAllowPrivateNetworks lets tenants' identity providers live on
	// loopback or private addresses. Off by default: a provider URL must
	// not let a tenant admin probe the host's own network (host/egress).
	SSOAllowPrivateNetworks bool `yaml:"sso_allow_private_networks"`
	// BreachCheckURL, when set, checks new passwords against a
	// Have-I-Been-Pwned-compatible range API (e.g.
	// https://api.pwnedpasswords.com). Off by default: the check sends
	// five hex digits of each new password's SHA-1 to that service.
	BreachCheckURL string `yaml:"breach_check_url"`
	// Log configures the structured log.
	Log Log `yaml:"log"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Database selects and reaches the database.
type Database struct {
	// Driver is "sqlite" or "postgres".
	Driver string `yaml:"driver"`
	// DSN is a file path (SQLite) or a postgres:// URL.
	DSN string `yaml:"dsn"`
	// Role is assumed on PostgreSQL so row-level security applies even
	// when connecting as the tables' owner; see core/store.
	Role string `yaml:"role"`
}

// Mail configures outgoing e-mail. Without an SMTP host, messages are
// written as .eml files into {DataDir}/mail, which is the embedded
// default for trying Plenum out.
type Mail struct {
	// From is the sender address (default plenum@localhost).
	From string `yaml:"from"`
	// SMTPHost and SMTPPort reach the relay (port default 587).
	SMTPHost string `yaml:"smtp_host"`
	SMTPPort int    `yaml:"smtp_port"`
	// Username and Password authenticate to the relay (PLAIN, only over
	// TLS). The password comes from PLENUM_SMTP_PASSWORD only.
	Username string `yaml:"username"`
	Password string `yaml:"-"`
	// TLS is starttls (default), tls (implicit) or none (loopback only).
	TLS string `yaml:"tls"`
	// Dir is where the file mailer writes; default {DataDir}/mail.
	Dir string `yaml:"dir"`
}

// SMS reaches a text-message gateway by signed webhook.
type SMS struct {
	// WebhookURL is the gateway's https URL; empty turns SMS off.
	WebhookURL string `yaml:"webhook_url"`
	// Secret signs each request; from PLENUM_SMS_WEBHOOK_SECRET only.
	Secret string `yaml:"-"`
}

// Redis reaches a Redis server.
type Redis struct {
	// Addr is host:port; empty turns Redis off.
	Addr string `yaml:"addr"`
	// Username and DB select the account and database; the password
	// comes from PLENUM_REDIS_PASSWORD only.
	Username string `yaml:"username"`
	Password string `yaml:"-"`
	DB       int    `yaml:"db"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json (default) or text.
	Format string `yaml:"format"`
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		DataDir:            "data",
		Listen:             "127.0.0.1:8080",
		Database:           Database{Driver: string(store.SQLite)},
		CheckpointInterval: time.Minute,
		Demo:               true,
		Backups:            true,
		Log:                Log{Level: "info", Format: "json"},
		ShutdownTimeout:    15 * time.Second,
	}
}

// Flags binds the command-line flags every subcommand shares. Values set
// on the command line win over file and environment.
type Flags struct {
	fs       *flag.FlagSet
	file     string
	dataDir  string
	listen   string
	baseURL  string
	driver   string
	dsn      string
	logLevel string
}

// Register adds the shared flags to fs.
func Register(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	fs.StringVar(&f.file, "config", "", "YAML configuration `file` (env PLENUM_CONFIG)")
	fs.StringVar(&f.dataDir, "data-dir", "", "`directory` for the database and keys (env PLENUM_DATA_DIR, default ./data)")
	fs.StringVar(&f.listen, "listen", "", "HTTP listen `address` (env PLENUM_LISTEN, default 127.0.0.1:8080)")
	fs.StringVar(&f.baseURL, "base-url", "", "public base `URL` (env PLENUM_BASE_URL, default http://{listen})")
	fs.StringVar(&f.driver, "db-driver", "", "database `driver`: sqlite or postgres (env PLENUM_DATABASE_DRIVER)")
	fs.StringVar(&f.dsn, "db-dsn", "", "database file path or postgres:// `URL` (env PLENUM_DATABASE_DSN)")
	fs.StringVar(&f.logLevel, "log-level", "", "log `level`: debug, info, warn, error (env PLENUM_LOG_LEVEL)")
	return f
}

// Load builds the configuration: defaults, then the file (flag, or
// PLENUM_CONFIG), then the environment, then flags, then Validate.
func (f *Flags) Load(getenv func(string) string) (Config, error) {
	c := Default()
	file := f.file
	if file == "" {
		file = getenv("PLENUM_CONFIG")
	}
	if file != "" {
		if err := c.loadFile(file); err != nil {
			return c, err
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return c, err
	}
	setIf(&c.DataDir, f.dataDir)
	setIf(&c.Listen, f.listen)
	setIf(&c.BaseURL, f.baseURL)
	setIf(&c.Database.Driver, f.driver)
	setIf(&c.Database.DSN, f.dsn)
	setIf(&c.Log.Level, f.logLevel)
	c.fillDerived()
	return c, c.Validate()
}

func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		// yaml reports several problems on several lines; one line reads better.
		msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
		return fmt.Errorf("config file %s: %s", path, msg)
	}
	return nil
}

func (c *Config) applyEnv(getenv func(string) string) error {
	setIf(&c.DataDir, getenv("PLENUM_DATA_DIR"))
	setIf(&c.Listen, getenv("PLENUM_LISTEN"))
	setIf(&c.BaseURL, getenv("PLENUM_BASE_URL"))
	setIf(&c.Database.Driver, getenv("PLENUM_DATABASE_DRIVER"))
	setIf(&c.Database.DSN, getenv("PLENUM_DATABASE_DSN"))
	setIf(&c.Database.Role, getenv("PLENUM_DATABASE_ROLE"))
	setIf(&c.MasterKeyFile, getenv("PLENUM_MASTER_KEY_FILE"))
	setIf(&c.MasterKey, getenv("PLENUM_MASTER_KEY"))
	setIf(&c.AuditKeyFile, getenv("PLENUM_AUDIT_KEY_FILE"))
	setIf(&c.Log.Level, getenv("PLENUM_LOG_LEVEL"))
	setIf(&c.Log.Format, getenv("PLENUM_LOG_FORMAT"))
	setIf(&c.Mail.From, getenv("PLENUM_MAIL_FROM"))
	setIf(&c.Mail.SMTPHost, getenv("PLENUM_SMTP_HOST"))
	setIf(&c.Mail.Username, getenv("PLENUM_SMTP_USERNAME"))
	setIf(&c.Mail.Password, getenv("PLENUM_SMTP_PASSWORD"))
	setIf(&c.Mail.TLS, getenv("PLENUM_SMTP_TLS"))
	if v := getenv("PLENUM_SMTP_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p <= 0 || p > 65535 {
			return fmt.Errorf("PLENUM_SMTP_PORT=%q: want a port number", v)
		}
		c.Mail.SMTPPort = p
	}
	setIf(&c.Redis.Addr, getenv("PLENUM_REDIS_ADDR"))
	setIf(&c.Redis.Password, getenv("PLENUM_REDIS_PASSWORD"))
	setIf(&c.BreachCheckURL, getenv("PLENUM_BREACH_CHECK_URL"))
	setIf(&c.SMS.WebhookURL, getenv("PLENUM_SMS_WEBHOOK_URL"))
	setIf(&c.SMS.Secret, getenv("PLENUM_SMS_WEBHOOK_SECRET"))
	if v := getenv("PLENUM_TRUSTED_PROXIES"); v != "" {
		c.TrustedProxies = splitList(v)
	}
	if v := getenv("PLENUM_PLUGIN_TRUSTED_KEYS"); v != "" {
		c.PluginTrustedKeys = splitList(v)
	}
	if v := getenv("PLENUM_HOST_TENANTS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("PLENUM_HOST_TENANTS=%q: want true or false", v)
		}
		c.HostTenants = b
	}
	if v := getenv("PLENUM_SSO_ALLOW_PRIVATE_NETWORKS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("PLENUM_SSO_ALLOW_PRIVATE_NETWORKS=%q: want true or false", v)
		}
		c.SSOAllowPrivateNetworks = b
	}
	if v := getenv("PLENUM_BACKUPS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("PLENUM_BACKUPS=%q: want true or false", v)
		}
		c.Backups = b
	}
	if v := getenv("PLENUM_DEMO"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("PLENUM_DEMO=%q: want true or false", v)
		}
		c.Demo = b
	}
	if v := getenv("PLENUM_CHECKPOINT_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("PLENUM_CHECKPOINT_INTERVAL=%q: want a duration such as 1m", v)
		}
		c.CheckpointInterval = d
	}
	return nil
}

// fillDerived sets the values that default from others.
func (c *Config) fillDerived() {
	if c.Database.Driver == "" {
		c.Database.Driver = string(store.SQLite)
	}
	if c.Database.DSN == "" && c.Database.Driver == string(store.SQLite) {
		c.Database.DSN = filepath.Join(c.DataDir, "plenum.db")
	}
	if c.MasterKeyFile == "" {
		c.MasterKeyFile = filepath.Join(c.DataDir, "master.key")
	}
	if c.AuditKeyFile == "" {
		c.AuditKeyFile = filepath.Join(c.DataDir, "audit-signing.key")
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Listen
	}
	if c.Mail.From == "" {
		c.Mail.From = "plenum@localhost"
	}
	if c.Mail.SMTPPort == 0 {
		c.Mail.SMTPPort = 587
	}
	if c.Mail.TLS == "" {
		c.Mail.TLS = "starttls"
	}
	if c.Mail.Dir == "" {
		c.Mail.Dir = filepath.Join(c.DataDir, "mail")
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
}

// Validate reports the first invalid value as one line that says how to
// fix it.
func (c Config) Validate() error {
	if strings.TrimSpace(c.DataDir) == "" {
		return errors.New("data_dir is empty: set PLENUM_DATA_DIR or --data-dir")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen address %q is not host:port (e.g. 127.0.0.1:8080)", c.Listen)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("base_url %q must be an http:// or https:// URL without query", c.BaseURL)
	}
	dbc := c.StoreConfig()
	if err := dbc.Validate(); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err2 := netip.ParseAddr(p); err2 != nil {
				return fmt.Errorf("trusted proxy %q is neither an IP address nor a CIDR", p)
			}
		}
	}
	for _, k := range c.PluginTrustedKeys {
		if _, err := ParsePublicKey(k); err != nil {
			return err
		}
	}
	if c.Mail.TLS != "" && c.Mail.TLS != "starttls" && c.Mail.TLS != "tls" && c.Mail.TLS != "none" {
		return fmt.Errorf("mail.tls %q must be starttls, tls or none", c.Mail.TLS)
	}
	if c.BreachCheckURL != "" {
		if u, err := url.Parse(c.BreachCheckURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("breach_check_url %q must be an http(s) URL", c.BreachCheckURL)
		}
	}
	if c.CheckpointInterval < time.Second {
		return fmt.Errorf("checkpoint_interval %s is below one second", c.CheckpointInterval)
	}
	if _, err := ParseLevel(c.Log.Level); err != nil {
		return err
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		return fmt.Errorf("log format %q: want json or text", c.Log.Format)
	}
	if c.ShutdownTimeout <= 0 {
		return errors.New("shutdown_timeout must be positive")
	}
	return nil
}

// StoreConfig returns the database configuration for core/store.
func (c Config) StoreConfig() store.Config {
	return store.Config{Driver: store.Dialect(c.Database.Driver), DSN: c.Database.DSN, Role: c.Database.Role}
}

// ParsePublicKey decodes a base64 ed25519 public key.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("plugin trusted key %q is not a base64 ed25519 public key", s)
	}
	return ed25519.PublicKey(b), nil
}

// TrustedKeys returns the decoded PluginTrustedKeys.
func (c Config) TrustedKeys() []ed25519.PublicKey {
	var out []ed25519.PublicKey
	for _, k := range c.PluginTrustedKeys {
		if pk, err := ParsePublicKey(k); err == nil {
			out = append(out, pk)
		}
	}
	return out
}

// ParseLevel maps a level name to slog.Level.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
}

// Logger returns the structured logger the configuration asks for.
func (c Config) Logger(w io.Writer) *slog.Logger {
	lvl, _ := ParseLevel(c.Log.Level)
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
