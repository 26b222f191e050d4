// The token management API (SPEC 5.2), called with Basic credentials held in memory.
//
// Every request is sent with `credentials: 'omit'` and an explicit Authorization header:
// the browser then neither attaches credentials of its own nor opens its native sign-in
// dialog when a 401 carries `WWW-Authenticate: Basic`.

const TOKENS = '/api/v1alpha/token/';
const ADMIN_TOKENS = '/api/v1alpha/admin/tokens';

/** A failed request: the HTTP status and the API's `{message, error}` body. */
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(body?.message || `The server answered ${status}.`);
    this.name = 'ApiError';
    this.status = status;
    this.code = body?.error ?? null;
    /** Seconds to wait before trying again (429), or null. */
    this.retryAfter = retryAfter;
  }
}

/** A client for one user's tokens; `username` and `password` live only in this object. */
export class TokenApi {
  #authorization;

  constructor(username, password) {
    this.username = username;
    this.#authorization = `Basic ${base64(`${username}:${password}`)}`;
  }

  /** The user's tokens as `{id: record}`; an empty object when they have none. */
  async list() {
    try {
      const body = await this.#request('GET', TOKENS);
      return body.jwt_tokens ?? {};
    } catch (err) {
      // Specter's answer for a user without tokens is a 404 with this body.
      if (err instanceof ApiError && err.status === 404) return {};
      throw err;
    }
  }

  /** Creates a token; resolves to the 201 body, the only place the token string appears. */
  create(description, life) {
    return this.#request('POST', TOKENS, {
      jwt_token_description: description,
      jwt_token_life: life,
    });
  }

  /** Deletes (revokes) the token with this id. */
  remove(id) {
    return this.#request('DELETE', `${TOKENS}${encodeURIComponent(id)}/`);
  }

  /**
   * Replaces the token with this id by a new one (same description, scopes and life); the
   * old one stops working at once. Resolves to the 201 body, as create does.
   */
  regenerate(id) {
    return this.#request('POST', `${TOKENS}${encodeURIComponent(id)}/regenerate`);
  }

  /**
   * Every user's tokens (`[{username, jwt_token_id, ...}]`) when this user is an
   * administrator; null when they are not (the server answers 403).
   */
  async adminList() {
    try {
      const body = await this.#request('GET', ADMIN_TOKENS);
      return body.jwt_tokens ?? [];
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return null;
      throw err;
    }
  }

  /** Deletes (revokes) any user's token; administrators only. */
  adminRemove(username, id) {
    return this.#request(
      'DELETE',
      `/api/v1alpha/admin/token/${encodeURIComponent(username)}/${encodeURIComponent(id)}`,
    );
  }

  async #request(method, path, body) {
    const headers = { Accept: 'application/json', Authorization: this.#authorization };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, {
        message: 'Could not reach the server. Check that it is running, then try again.',
        error: 'network',
      }, null);
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(response.status, data, retryAfterSeconds(response.headers.get('Retry-After')));
    }
    return data ?? {};
  }
}

/** Retry-After is either delay seconds or an HTTP date (RFC 9110 10.2.3). */
function retryAfterSeconds(value) {
  if (value == null || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Base64 of the UTF-8 bytes, so that non-ASCII usernames and passwords survive. */
function base64(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
