package pace

// waiter is a create waiting for its slot.
type waiter struct {
	attempt int
	seq     uint64 // arrival order among equal attempts
	index   int    // in the heap
	wake    chan struct{}
}

// queue orders waiters: later attempts first, then first come.
type queue []*waiter

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].attempt != q[j].attempt {
		return q[i].attempt > q[j].attempt
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *queue) Push(x any) {
	w := x.(*waiter)
	w.index = len(*q)
	*q = append(*q, w)
}
func (q *queue) Pop() any {
	old := *q
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return w
}
