// Command ferretdb runs FerretDB (a MongoDB wire-protocol server) on SQLite for the test suite.
//
// `go install github.com/FerretDB/FerretDB/cmd/ferretdb` panics at start-up about build/version/version.txt;
// the embeddable package skips that check, so CI builds this small wrapper instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to serve the MongoDB wire protocol on")
	dataDir := flag.String("data-dir", "", "directory of the SQLite databases (required)")
	flag.Parse()
	if *dataDir == "" {
		log.Fatal("-data-dir is required")
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		log.Fatal(err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	// MongoDBURI answers once the listener is bound: the caller waits for this line.
	fmt.Printf("ferretdb ready: %s\n", f.MongoDBURI())
	if err := <-done; err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}
