// A small observable store: one state object, replaced (never mutated) by set().

export class Store {
  constructor(initial) {
    this.state = Object.freeze({ ...initial });
    this.listeners = new Set();
  }

  get() {
    return this.state;
  }

  set(patch) {
    const previous = this.state;
    this.state = Object.freeze({ ...previous, ...patch });
    for (const listener of this.listeners) listener(this.state, previous);
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

// sessionStorage-backed value that survives a reload of this tab (e.g. the payment session in flight).
export class Saved {
  constructor(key, storage = sessionStorage) {
    this.key = key;
    this.storage = storage;
  }
  get() {
    const raw = this.storage.getItem(this.key);
    if (raw === null) return null;
    try {
      return JSON.parse(raw);
    } catch {
      return null;
    }
  }
  set(value) {
    this.storage.setItem(this.key, JSON.stringify(value));
  }
  clear() {
    this.storage.removeItem(this.key);
  }
}
