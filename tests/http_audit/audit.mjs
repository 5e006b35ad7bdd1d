// Runs the graphql-http server audit (GraphQL over HTTP conformance) against one endpoint and
// prints one JSON line per audit: {id, name, status, reason}. Usage:
//   node audit.mjs URL [AUTHORIZATION]
// AUTHORIZATION, when given, is sent as the `Authorization` header of every request (the
// internal endpoint answers nothing without a token). tests/http_audit/test_audit.py runs it.
import { auditServer } from 'graphql-http';

const [url, authorization] = process.argv.slice(2);
if (!url) {
  console.error('usage: node audit.mjs URL [AUTHORIZATION]');
  process.exit(2);
}

function fetchFn(input, init = {}) {
  if (!authorization) return fetch(input, init);
  const headers = new Headers(init.headers);
  headers.set('authorization', authorization);
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn });
for (const result of results) {
  let reason = null;
  if (result.status !== 'ok') {
    reason = result.reason;
    if (result.response) {
      reason += ` (HTTP ${result.response.status}, ${result.response.headers.get('content-type')})`;
    }
  }
  console.log(JSON.stringify({ id: result.id, name: result.name, status: result.status, reason }));
}
