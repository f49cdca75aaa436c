// A web server that proves the private data path of the web front ends: /data connects to
// Aurora PostgreSQL with the injected credentials and to Valkey over TLS, and reports what it
// reached. No secret ever appears in a response or a log line.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// databaseSecret is the JSON that CDK's generated Aurora secret holds.
type databaseSecret struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	DBName   string `json:"dbname"`
}

type check struct {
	Reached   bool   `json:"reached"`
	Endpoint  string `json:"endpoint,omitempty"`
	Detail    string `json:"detail,omitempty"`
	Error     string `json:"error,omitempty"`
	LatencyMS int64  `json:"latency_ms"`
}

func main() {
	host, _ := os.Hostname()
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		// Never touches the data stores, so health checks let an idle database pause.
		_, _ = w.Write([]byte("ok\n"))
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]string{
			"arch":     runtime.GOARCH,
			"hostname": host,
			"try":      "/data (connects to PostgreSQL and Valkey; the first call after a pause waits for Aurora to resume)",
		})
	})
	http.HandleFunc("/data", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 45*time.Second)
		defer cancel()
		primary := os.Getenv("VALKEY_ENDPOINT")
		reader := os.Getenv("VALKEY_READER_ENDPOINT")
		reply(w, map[string]any{
			"arch":          runtime.GOARCH,
			"hostname":      host,
			"postgres":      checkPostgres(ctx, os.Getenv("DB_SECRET"), os.Getenv("DB_NAME")),
			"valkey":        timed(primary, func() (string, error) { return valkeyVisit(primary) }),
			"valkey_reader": timed(reader, func() (string, error) { return valkeyCommand(reader, "PING") }),
		})
	})
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	log.Printf("listening on :%s (%s/%s)", port, runtime.GOOS, runtime.GOARCH)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}

func checkPostgres(ctx context.Context, raw string, database string) check {
	var secret databaseSecret
	if raw == "" {
		return check{Error: "DB_SECRET is not set"}
	}
	if err := json.Unmarshal([]byte(raw), &secret); err != nil {
		return check{Error: "DB_SECRET is not the JSON of the database secret"}
	}
	if secret.DBName == "" {
		secret.DBName = database
	}
	endpoint := fmt.Sprintf("%s:%d", secret.Host, secret.Port)
	return redact(timed(endpoint, func() (string, error) {
		// sslmode=require: encrypted; the RDS CA bundle is not in the image, so the server's
		// certificate is not verified (the security groups pin who can be reached).
		dsn := url.URL{
			Scheme:   "postgres",
			User:     url.UserPassword(secret.Username, secret.Password),
			Host:     endpoint,
			Path:     "/" + secret.DBName,
			RawQuery: "sslmode=require&connect_timeout=40",
		}
		conn, err := pgx.Connect(ctx, dsn.String())
		if err != nil {
			return "", err
		}
		defer conn.Close(context.Background())
		var version string
		var ssl bool
		err = conn.QueryRow(ctx,
			"select current_setting('server_version'), coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false)",
		).Scan(&version, &ssl)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("PostgreSQL %s, database %s, user %s, tls %t", version, secret.DBName, secret.Username, ssl), nil
	}), secret.Password)
}

func valkeyVisit(endpoint string) (string, error) {
	count, err := valkeyCommand(endpoint, "INCR", "datapath:visits")
	if err != nil {
		return "", err
	}
	return "TLS, INCR datapath:visits = " + count, nil
}

func timed(endpoint string, probe func() (string, error)) check {
	if endpoint == "" || strings.HasPrefix(endpoint, ":") {
		return check{Error: "endpoint is not set"}
	}
	start := time.Now()
	detail, err := probe()
	result := check{Endpoint: endpoint, LatencyMS: time.Since(start).Milliseconds()}
	if err != nil {
		result.Error = err.Error()
		return result
	}
	result.Reached, result.Detail = true, detail
	return result
}

// redact removes the password from an error message, whatever the driver put in it.
func redact(result check, password string) check {
	if password != "" {
		result.Error = strings.ReplaceAll(result.Error, password, "[redacted]")
		result.Error = strings.ReplaceAll(result.Error, url.QueryEscape(password), "[redacted]")
	}
	return result
}

func reply(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/json")
	encoder := json.NewEncoder(w)
	encoder.SetIndent("", "  ")
	_ = encoder.Encode(body)
}
