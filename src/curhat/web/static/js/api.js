// The REST client: JSON in and out, the error envelope as ApiError, Idempotency-Key on creates,
// and a 401 sends the person back to the sign-in page.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error || (status === 0 ? "network_error" : "http_error");
    this.fields = body?.fields || [];
    this.reason = body?.reason || null;
  }
}

export function newId() {
  return crypto.randomUUID();
}

export class TokenStore {
  constructor(key) {
    this.key = key;
  }
  get() {
    return localStorage.getItem(this.key);
  }
  set(token) {
    localStorage.setItem(this.key, token);
  }
  clear() {
    localStorage.removeItem(this.key);
  }
}

export class Api {
  // tokens: a TokenStore; loginUrl: where a 401 sends the person.
  constructor({ tokens, loginUrl, onUnauthorized } = {}) {
    this.tokens = tokens;
    this.loginUrl = loginUrl;
    this.onUnauthorized = onUnauthorized || (() => this.toLogin());
  }

  toLogin() {
    this.tokens?.clear();
    if (this.loginUrl) location.assign(this.loginUrl);
  }

  headers(extra = {}) {
    const headers = { Accept: "application/json", ...extra };
    const token = this.tokens?.get();
    if (token) headers.Authorization = `Bearer ${token}`;
    return headers;
  }

  async request(method, path, { body, idempotencyKey, keepalive = false, auth = true } = {}) {
    const headers = this.headers(body === undefined ? {} : { "Content-Type": "application/json" });
    if (!auth) delete headers.Authorization;
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        keepalive,
        credentials: "omit",
        cache: "no-store",
      });
    } catch (err) {
      throw new ApiError(0, { error: "network_error", message: "Tidak ada koneksi." });
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const error = new ApiError(response.status, data);
      if (response.status === 401 && auth) this.onUnauthorized(error);
      throw error;
    }
    return data;
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, body = undefined, options = {}) {
    return this.request("POST", path, { body, ...options });
  }

  // A create: the same key is reused when the caller retries the same intent.
  create(path, body, idempotencyKey = newId()) {
    return this.request("POST", path, { body, idempotencyKey });
  }

  patch(path, body) {
    return this.request("PATCH", path, { body });
  }

  // Fire-and-forget that survives the page unloading (leaving a screen, closing the tab).
  beacon(path) {
    fetch(path, { method: "POST", headers: this.headers(), keepalive: true, credentials: "omit" }).catch(() => {});
  }
}

// "Nomor HP sudah terdaftar." etc.: the sentence to show for an error, in Indonesian.
const MESSAGES = {
  network_error: "Tidak ada koneksi. Coba lagi.",
  invalid_credentials: "Nomor HP atau kata sandi salah.",
  phone_taken: "Nomor HP ini sudah terdaftar. Silakan masuk.",
  too_many_attempts: "Terlalu banyak percobaan. Coba lagi sebentar lagi.",
  validation_error: "Periksa kembali isian kamu.",
  service_unavailable: "Layanan sedang sibuk. Coba lagi sebentar lagi.",
  internal_error: "Terjadi kesalahan. Coba lagi.",
  payment_session_expired: "Sesi pembayaran kedaluwarsa. Silakan ulangi.",
  chat_session_ended: "Sesi chat sudah berakhir.",
  extension_pending: "Masih ada perpanjangan yang menunggu jawaban.",
};

export function errorText(error) {
  if (error instanceof ApiError) return MESSAGES[error.code] || error.message;
  return "Terjadi kesalahan. Coba lagi.";
}
