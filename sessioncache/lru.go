package sessioncache

// lru is the memory cache's least-recently-used list: a map from key to
// node and a ring of the nodes, most recently used first. It is not safe
// for concurrent use (Memory holds its lock) and never evicts by itself:
// Memory decides what to drop, by count or by bytes.
//
// Why not hashicorp/golang-lru's simplelru, used before: its entry also
// carries an expiry time and a list pointer this cache never uses, and
// keeps the value behind a second pointer. Here the node holds the 32-byte
// key and the value inline: ~70 bytes less per cached session, which at a
// million sessions is ~70 MB of live heap (and, with GOGC=400, up to five
// times that in RSS).
type lru[V any] struct {
	root  lruNode[V] // sentinel: root.next is the newest, root.prev the oldest
	items map[[32]byte]*lruNode[V]
}

// lruNode is one entry. Its val is never modified once linked: Memory.Get
// hands out a pointer to it.
type lruNode[V any] struct {
	prev, next *lruNode[V]
	key        [32]byte
	val        V
}

func (l *lru[V]) init() {
	l.root.next, l.root.prev = &l.root, &l.root
	l.items = map[[32]byte]*lruNode[V]{}
}

func (l *lru[V]) len() int { return len(l.items) }

// get returns the node under k and makes it the newest, or nil.
func (l *lru[V]) get(k [32]byte) *lruNode[V] {
	n := l.items[k]
	if n != nil && l.root.next != n {
		l.unlink(n)
		l.pushFront(n)
	}
	return n
}

// peek returns the node under k, or nil, without changing the order.
func (l *lru[V]) peek(k [32]byte) *lruNode[V] { return l.items[k] }

// add links n as the newest under n.key and returns the node it replaced,
// if any.
func (l *lru[V]) add(n *lruNode[V]) (old *lruNode[V]) {
	if old = l.items[n.key]; old != nil {
		l.unlink(old)
	}
	l.items[n.key] = n
	l.pushFront(n)
	return old
}

// remove unlinks and returns the node under k, or nil.
func (l *lru[V]) remove(k [32]byte) *lruNode[V] {
	n := l.items[k]
	if n != nil {
		l.unlink(n)
		delete(l.items, k)
	}
	return n
}

// removeOldest unlinks and returns the oldest node, or nil if empty.
func (l *lru[V]) removeOldest() *lruNode[V] {
	if len(l.items) == 0 {
		return nil
	}
	return l.remove(l.root.prev.key)
}

// purge drops every node, and the map with them: a Go map never shrinks,
// so a new one gives its memory back.
func (l *lru[V]) purge() { l.init() }

func (l *lru[V]) pushFront(n *lruNode[V]) {
	n.prev, n.next = &l.root, l.root.next
	l.root.next.prev = n
	l.root.next = n
}

func (l *lru[V]) unlink(n *lruNode[V]) {
	n.prev.next = n.next
	n.next.prev = n.prev
	n.prev, n.next = nil, nil
}
