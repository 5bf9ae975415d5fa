// A real OpenID provider (panva's oidc-provider) for the sign-in tests (issue 26): one
// confidential client, PKCE required, a login page where Chromium types an e-mail and is
// signed in and consents in one step. Prints "ready <issuer>" once it listens.
//
// Environment: PORT (the issuer names it), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, and
//   FORGE=1  sign ID tokens with one key and publish another under the same kid (a token
//            "signed by another key": the client must refuse it);
//   KID      the signing key's id (a new one is a key rotation).
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const env = process.env;

function rsaKey(kid) {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

const kid = env.KID || 'k1';
const signing = rsaKey(kid);
const published = env.FORGE === '1' ? rsaKey(kid) : signing;
const publicOf = ({ kty, n, e, kid: id, alg, use }) => ({ kty, n, e, kid: id, alg, use });

// The accounts: any e-mail typed on the login page; the claims say who it is.
function account(email) {
  return {
    accountId: email,
    async claims() {
      return {
        sub: email,
        email,
        email_verified: !email.startsWith('unverified'),
        agentstatus_role: email.startsWith('admin') ? 'admin:*' : 'supervisor:acme',
      };
    },
  };
}

function page(body) {
  return `<!doctype html><html><head><title>Test provider</title></head><body>${body}</body></html>`;
}

async function formOf(ctx) {
  let raw = '';
  for await (const chunk of ctx.req) raw += chunk;
  return new URLSearchParams(raw);
}

function start(port) {
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: env.CLIENT_ID,
        client_secret: env.CLIENT_SECRET,
        redirect_uris: [env.REDIRECT_URI],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    claims: {
      // The role comes with "openid" (agentstatus asks for "openid email"), as a Keycloak
      // mapper or Entra's app roles put it in every ID token.
      openid: ['sub', 'agentstatus_role'],
      email: ['email', 'email_verified'],
    },
    conformIdTokenClaims: false,
    cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
    jwks: { keys: [signing] },
    findAccount: async (ctx, id) => account(id),
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  });

  provider.use(async (ctx, next) => {
    if (ctx.path === '/jwks' && published !== signing) {
      ctx.type = 'application/jwk-set+json';
      ctx.body = JSON.stringify({ keys: [publicOf(published)] });
      return;
    }
    const match = ctx.path.match(/^\/interaction\/([\w-]+)$/);
    if (!match) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = page(
        `<h1>Test provider</h1><form method="post"><label>E-mail <input name="email" id="email"></label>` +
          `<button type="submit" id="login">Sign in</button></form>`,
      );
      return;
    }
    const email = (await formOf(ctx)).get('email') || '';
    const grant = new provider.Grant({ accountId: email, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    grant.addOIDCClaims(['email', 'email_verified', 'agentstatus_role']);
    const grantId = await grant.save();
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: email }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  });

  provider.listen(port, '127.0.0.1', () => process.stdout.write(`ready ${issuer}\n`));
}

start(Number(env.PORT));
