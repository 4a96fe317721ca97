package config

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
)

// pki is a CA with a server certificate for 127.0.0.1 and a client
// certificate, as PEM files and text.
type pki struct {
	caFile, certFile, keyFile string // the CA, and the client's certificate and key
	caPEM, certPEM, keyPEM    string
	otherCAFile               string // a CA that signed nothing here
	server                    tls.Certificate
	pool                      *x509.CertPool
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	caCert, caKey, caPEM, _ := issue(t, nil, nil, &x509.Certificate{Subject: pkix.Name{CommonName: "test CA"},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign})
	_, _, serverPEM, serverKeyPEM := issue(t, caCert, caKey, &x509.Certificate{Subject: pkix.Name{CommonName: "temporal.test"},
		DNSNames: []string{"temporal.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	_, _, clientPEM, clientKeyPEM := issue(t, caCert, caKey, &x509.Certificate{Subject: pkix.Name{CommonName: "playbookd"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	_, _, otherPEM, _ := issue(t, nil, nil, &x509.Certificate{Subject: pkix.Name{CommonName: "other CA"},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign})
	server, err := tls.X509KeyPair([]byte(serverPEM), []byte(serverKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return pki{caFile: write("ca.pem", caPEM), certFile: write("client.pem", clientPEM), keyFile: write("client.key", clientKeyPEM),
		caPEM: caPEM, certPEM: clientPEM, keyPEM: clientKeyPEM, otherCAFile: write("other-ca.pem", otherPEM),
		server: server, pool: pool}
}

// issue signs template with parent's key (self-signed when parent is nil).
func issue(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, template *x509.Certificate) (*x509.Certificate, *ecdsa.PrivateKey, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template.SerialNumber = big.NewInt(time.Now().UnixNano())
	template.NotBefore, template.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	if parent == nil {
		parent, parentKey = template, key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

// clientOptions loads vars and builds the client options from them.
func clientOptions(t *testing.T, vars map[string]string) client.Options {
	t.Helper()
	cfg, err := LoadFrom(vars)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cfg.TemporalClientOptions()
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

func TestTemporalConnectionSettings(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name       string
		vars       map[string]string
		tls        bool
		clientCert bool
		ca         bool
		serverName string
		apiKey     bool
	}{
		{name: "local server: plaintext", vars: map[string]string{}},
		{name: "empty values (compose passes unset variables as empty) are unset", vars: map[string]string{"TEMPORAL_TLS": "",
			"TEMPORAL_TLS_CERT": "", "TEMPORAL_TLS_KEY": "", "TEMPORAL_TLS_CA": "", "TEMPORAL_TLS_SERVER_NAME": "", "TEMPORAL_API_KEY": ""}},
		{name: "mTLS from files", vars: map[string]string{"TEMPORAL_TLS_CERT": p.certFile, "TEMPORAL_TLS_KEY": p.keyFile},
			tls: true, clientCert: true},
		{name: "mTLS from PEM text, private CA, server name", vars: map[string]string{"TEMPORAL_TLS_CERT": p.certPEM,
			"TEMPORAL_TLS_KEY": p.keyPEM, "TEMPORAL_TLS_CA": p.caPEM, "TEMPORAL_TLS_SERVER_NAME": "temporal.internal"},
			tls: true, clientCert: true, ca: true, serverName: "temporal.internal"},
		{name: "API key alone: TLS with the system's roots", vars: map[string]string{"TEMPORAL_API_KEY": "eyJhbGciOi.key"},
			tls: true, apiKey: true},
		{name: "TLS alone", vars: map[string]string{"TEMPORAL_TLS": "true"}, tls: true},
		{name: "private CA alone", vars: map[string]string{"TEMPORAL_TLS_CA": p.caFile}, tls: true, ca: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["TEMPORAL_ADDRESS"] = "ns.acct.tmprl.cloud:7233"
			tt.vars["TEMPORAL_NAMESPACE"] = "ns.acct"
			opts := clientOptions(t, tt.vars)
			if opts.HostPort != "ns.acct.tmprl.cloud:7233" || opts.Namespace != "ns.acct" {
				t.Errorf("address %q, namespace %q", opts.HostPort, opts.Namespace)
			}
			got := opts.ConnectionOptions.TLS
			if (got != nil) != tt.tls {
				t.Fatalf("TLS = %v, want %v", got != nil, tt.tls)
			}
			if got == nil {
				return
			}
			if (len(got.Certificates) == 1) != tt.clientCert || (got.RootCAs != nil) != tt.ca || got.ServerName != tt.serverName {
				t.Errorf("client certificates %d, own CA %v, server name %q", len(got.Certificates), got.RootCAs != nil, got.ServerName)
			}
			if got.MinVersion != tls.VersionTLS12 {
				t.Errorf("MinVersion = %x", got.MinVersion)
			}
			if (opts.Credentials != nil) != tt.apiKey {
				t.Errorf("credentials = %v, want API key %v", opts.Credentials, tt.apiKey)
			}
		})
	}
}

// systemInfoServer answers the one call a client makes when it dials and
// keeps the authorization header it came with.
type systemInfoServer struct {
	workflowservice.UnimplementedWorkflowServiceServer
	mu            sync.Mutex
	authorization []string
}

func (s *systemInfoServer) GetSystemInfo(ctx context.Context, _ *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.mu.Lock()
	s.authorization = md.Get("authorization")
	s.mu.Unlock()
	return &workflowservice.GetSystemInfoResponse{}, nil
}

// TestDialTemporalOverTLS dials a TLS gRPC endpoint that requires a client
// certificate from our CA, with the options the configuration builds.
func TestDialTemporalOverTLS(t *testing.T) {
	p := newPKI(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{p.server},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool, MinVersion: tls.VersionTLS12})))
	fake := &systemInfoServer{}
	workflowservice.RegisterWorkflowServiceServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	mtls := map[string]string{"TEMPORAL_TLS_CERT": p.certFile, "TEMPORAL_TLS_KEY": p.keyFile, "TEMPORAL_TLS_CA": p.caFile}
	with := func(extra map[string]string) map[string]string {
		vars := map[string]string{}
		for k, v := range mtls {
			vars[k] = v
		}
		for k, v := range extra {
			if v == "" {
				delete(vars, k)
			} else {
				vars[k] = v
			}
		}
		return vars
	}
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr string // "" means it connects
		apiKey  string
	}{
		{name: "client certificate and the server's CA", vars: mtls},
		{name: "the certificate's DNS name", vars: with(map[string]string{"TEMPORAL_TLS_SERVER_NAME": "temporal.test"})},
		{name: "PEM text instead of files", vars: with(map[string]string{"TEMPORAL_TLS_CERT": p.certPEM, "TEMPORAL_TLS_KEY": p.keyPEM, "TEMPORAL_TLS_CA": p.caPEM})},
		{name: "API key sent as a bearer token", vars: with(map[string]string{"TEMPORAL_API_KEY": "test-api-key"}), apiKey: "Bearer test-api-key"},
		{name: "without the CA", vars: with(map[string]string{"TEMPORAL_TLS_CA": ""}), wantErr: "certificate signed by unknown authority"},
		{name: "another CA", vars: with(map[string]string{"TEMPORAL_TLS_CA": p.otherCAFile}), wantErr: "certificate signed by unknown authority"},
		{name: "a server name the certificate does not have", vars: with(map[string]string{"TEMPORAL_TLS_SERVER_NAME": "elsewhere.test"}), wantErr: "elsewhere.test"},
		{name: "without a client certificate", vars: with(map[string]string{"TEMPORAL_TLS_CERT": "", "TEMPORAL_TLS_KEY": ""}), wantErr: "failed reaching server"}, // the reason depends on when TLS 1.3 sees the refusal
		{name: "plaintext", vars: map[string]string{}, wantErr: "failed reaching server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["TEMPORAL_ADDRESS"] = lis.Addr().String()
			opts := clientOptions(t, tt.vars)
			opts.ConnectionOptions.GetSystemInfoTimeout = 5 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := client.DialContext(ctx, opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				c.Close()
				fake.mu.Lock()
				defer fake.mu.Unlock()
				if got := strings.Join(fake.authorization, ","); got != tt.apiKey {
					t.Errorf("authorization header %q, want %q", got, tt.apiKey)
				}
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("dial succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not say %q", err, tt.wantErr)
			}
		})
	}
}
