package heliumid

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestSleepEndsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if err := sleep(context.Background(), 3*time.Second); err != nil || time.Since(start) != 3*time.Second {
			t.Fatalf("sleep(3s) = %v after %v", err, time.Since(start))
		}

		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel)
		start = time.Now()
		if err := sleep(ctx, time.Hour); err != context.Canceled || time.Since(start) != time.Second {
			t.Fatalf("Sleep with a context canceled after 1s = %v after %v", err, time.Since(start))
		}
		if err := sleep(ctx, 0); err != context.Canceled {
			t.Fatalf("sleep(0) on an ended context = %v", err)
		}
		if err := sleep(context.Background(), -time.Second); err != nil {
			t.Fatalf("sleep(-1s) = %v", err)
		}
	})
}

func TestOutlastsDeadlineAtTheDeadline(t *testing.T) {
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
