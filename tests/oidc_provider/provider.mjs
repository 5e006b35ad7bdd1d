// A real OpenID Connect provider (node-oidc-provider) for the console's sign-in tests
// (tests/console/test_oidc.py). Its development interactions sign in whatever account name
// the login form is given, which becomes the ID token's `sub`, then ask for consent.
//
//   node provider.mjs PORT CLIENT_SECRET REDIRECT_URI
import Provider from 'oidc-provider';

const [port, clientSecret, redirectUri] = process.argv.slice(2);
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'gongkai-console',
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  cookies: { keys: ['gongkai-test-cookie-key'] },
});
provider.listen(Number(port), '127.0.0.1', () => console.log('ready'));
