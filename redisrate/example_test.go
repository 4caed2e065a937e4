package redisrate_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/redisrate"
	"github.com/redis/go-redis/v9"
)

// Every process of the backend runs the same three lines: one Redis, one key
// per integration, one Limit (the plan's creation cap). It needs a Redis
// server, so it has no Output to check.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()

	limiter := redisrate.New(rdb, "my-integration", redisrate.PerSecond(10))
	client, err := heliumid.NewClient(os.Getenv("HELIUMID_API_KEY"), heliumid.WithRateLimiter(limiter))
	if err != nil {
		log.Fatal(err)
	}

	created, err := client.CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{VendorData: "user-42"})
	if err != nil {
		log.Fatal(err)
	}
	log.Println("send the user to", created.Link)
}

// Keep creating sessions when Redis is down, each process pacing itself at
// the same limit. A Wait finds Redis gone within the probe timeout (500 ms
// by default, WithProbeTimeout); short go-redis timeouts and a single retry
// free the connection left waiting on a Redis that hangs soon after.
func ExampleWithLocalFallback() {
	rdb := redis.NewClient(&redis.Options{
		Addr:          "localhost:6379",
		DialTimeout:   500 * time.Millisecond,
		DialerRetries: 1,
		ReadTimeout:   500 * time.Millisecond,
		WriteTimeout:  500 * time.Millisecond,
		MaxRetries:    1,
	})
	defer rdb.Close()

	limiter := redisrate.New(rdb, "my-integration", redisrate.PerMinute(300).WithBurst(5),
		redisrate.WithLocalFallback())
	client, err := heliumid.NewClient(os.Getenv("HELIUMID_API_KEY"), heliumid.WithRateLimiter(limiter))
	if err != nil {
		log.Fatal(err)
	}
	_ = client // create sessions as usual
}
