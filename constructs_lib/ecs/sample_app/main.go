// A tiny web server that reports the CPU architecture it was built for, so a request to the
// load balancer (or `docker run` on a laptop) shows which half of the multi-arch image answered.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"runtime"
)

func main() {
	host, _ := os.Hostname()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"arch":     runtime.GOARCH,
			"os":       runtime.GOOS,
			"hostname": host,
		})
	})
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	log.Printf("listening on :%s (%s/%s)", port, runtime.GOOS, runtime.GOARCH)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
