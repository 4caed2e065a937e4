package redisrate

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if err := sleep(context.Background(), 3*time.Second); err != nil || time.Since(start) != 3*time.Second {
			t.Fatalf("sleep(3s) = %v after %v", err, time.Since(start))
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel)
		start = time.Now()
		if err := sleep(ctx, time.Hour); err != context.Canceled || time.Since(start) != time.Second {
			t.Fatalf("sleep with a context canceled after 1s = %v after %v", err, time.Since(start))
		}
		if err := sleep(ctx, 0); err != context.Canceled {
			t.Fatalf("sleep(0) on an ended context = %v", err)
		}
	})
}

func TestOutlastsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		if outlastsDeadline(context.Background(), time.Hour) {
			t.Fatal("no deadline, yet outlasted")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if outlastsDeadline(ctx, 10*time.Second) || !outlastsDeadline(ctx, 10*time.Second+1) {
			t.Fatal("the deadline itself is the boundary")
		}
	})
}

func TestHumanNeverPrintsANegativeDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Hour:                         "0s",
		1234567 * time.Microsecond:         "1.235s",
		time.Hour:                          "1h0m0s",
		time.Millisecond - time.Nanosecond: "1ms",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%d) = %q, want %q", d, got, want)
		}
	}
}
