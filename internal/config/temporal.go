package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.temporal.io/sdk/client"
)

// TemporalClientOptions are the connection settings of every Temporal client
// the processes dial: address, namespace, TLS and credentials. Callers add
// their logger and metrics.
//
// TLS is on when any TEMPORAL_TLS* setting or TEMPORAL_API_KEY is set:
// Temporal Cloud takes either an mTLS client certificate or an API key, and
// both need TLS; a self-hosted cluster may add a private CA and a server name.
func (c Config) TemporalClientOptions() (client.Options, error) {
	opts := client.Options{HostPort: c.TemporalAddress, Namespace: c.TemporalNamespace}
	tlsConfig, err := c.temporalTLSConfig()
	if err != nil {
		return client.Options{}, err
	}
	opts.ConnectionOptions.TLS = tlsConfig
	if c.TemporalAPIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(c.TemporalAPIKey)
	}
	return opts, nil
}

// temporalTLSConfig is nil for a plaintext connection. Its errors name the
// variables at fault, so validate reports them as they are.
func (c Config) temporalTLSConfig() (*tls.Config, error) {
	if !c.TemporalTLS && c.TemporalTLSCert == "" && c.TemporalTLSKey == "" && c.TemporalTLSCA == "" &&
		c.TemporalTLSServerName == "" && c.TemporalAPIKey == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TemporalTLSServerName}
	var errs []error
	switch {
	case c.TemporalTLSCert != "" && c.TemporalTLSKey == "":
		errs = append(errs, errors.New("TEMPORAL_TLS_KEY: required with TEMPORAL_TLS_CERT (the client certificate's private key)"))
	case c.TemporalTLSKey != "" && c.TemporalTLSCert == "":
		errs = append(errs, errors.New("TEMPORAL_TLS_CERT: required with TEMPORAL_TLS_KEY (the client certificate)"))
	case c.TemporalTLSCert != "":
		cert, certErr := pemValue("TEMPORAL_TLS_CERT", c.TemporalTLSCert)
		key, keyErr := pemValue("TEMPORAL_TLS_KEY", c.TemporalTLSKey)
		if certErr != nil || keyErr != nil {
			errs = append(errs, certErr, keyErr)
			break
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			errs = append(errs, fmt.Errorf("TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY: not a certificate and its private key: %w", err))
			break
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if c.TemporalTLSCA != "" {
		ca, err := pemValue("TEMPORAL_TLS_CA", c.TemporalTLSCA)
		if err != nil {
			errs = append(errs, err)
		} else if pool := x509.NewCertPool(); !pool.AppendCertsFromPEM(ca) {
			errs = append(errs, errors.New("TEMPORAL_TLS_CA: no PEM certificate in it"))
		} else {
			cfg.RootCAs = pool
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// pemValue is the PEM text itself, or the contents of the file it names.
func pemValue(name, value string) ([]byte, error) {
	if strings.HasPrefix(strings.TrimSpace(value), "-----BEGIN") {
		return []byte(value), nil
	}
	b, err := os.ReadFile(value)
	if err != nil {
		return nil, fmt.Errorf("%s: want PEM text or a PEM file: %w", name, err)
	}
	return b, nil
}
