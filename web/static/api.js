// The JSON API as the pages call it: same-origin fetch with the session
// cookie, optional bearer token, and the Graph error envelope unpacked.

// ---- the JSON API ----

export async function call(method, path, body, token) {
  const headers = {Accept: 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  let r;
  try {
    r = await fetch(path, {method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (err) {
    return {ok: false, status: 0, data: {error: {code: 'networkError', message: String(err)}}};
  }
  let data = null;
  const text = await r.text();
  if (text) { try { data = JSON.parse(text); } catch (_) { data = null; } }
  return {ok: r.ok, status: r.status, data};
}

export const codeOf = (res) => (res.data && res.data.error && res.data.error.code) || '';

// Where the admin pages keep the admin token (sessionStorage: gone with
// the tab); signing out forgets it.
export const adminTokenKey = 'rpserver.adminToken';
