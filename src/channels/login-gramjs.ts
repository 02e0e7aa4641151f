/*
 * The LoginClient over GramJS (the npm package `telegram`, 2.26): auth.sendCode through
 * client.sendCode (it retries AUTH_RESTART, and invoke() follows PHONE_MIGRATE_X to the
 * account's data centre, so the saved session names the right one), auth.signIn, and the 2FA
 * check as GramJS's own signInWithPassword does it (client/auth.js): account.getPassword, SRP
 * through telegram/Password's computeCheck, auth.checkPassword. GramJS loads at the first call,
 * never with this module.
 *
 * Options as in gramjs.ts: `connectionRetries` and `reconnectRetries` 3 (not GramJS's 5 and
 * Infinity), `floodSleepThreshold` 5 s (a longer FLOOD_WAIT reaches the person instead of a
 * silent sleep), its logger silenced; `destroy()` on close.
 */
import type { TelegramClient } from 'telegram';
import type { Api } from 'telegram/tl/index.js';
import { connectedClient } from './gramjs-client.js';
import type { LoginClient, LoginClientFactory, LoginSettings, LoginUser } from './login.js';

/** A LoginClient on a new GramJS client, or on `session` to continue a pending sign-in. */
export const gramjsLoginClient: LoginClientFactory = (
  settings: LoginSettings,
  session?: string,
): LoginClient => {
  let client: TelegramClient | undefined;
  let opening: Promise<TelegramClient> | undefined;
  let saved = session ?? '';

  async function open(): Promise<TelegramClient> {
    const made = await connectedClient({
      apiId: settings.apiId,
      apiHash: settings.apiHash,
      session: saved,
      connectionRetries: settings.connectionRetries ?? 3,
      floodSleepThreshold: 5,
    });
    client = made;
    return made;
  }

  const live = () => (opening ??= open());

  async function hintOf(c: TelegramClient): Promise<string | undefined> {
    const { Api } = await import('telegram/tl/index.js');
    const srp = await c.invoke(new Api.account.GetPassword());
    return srp.hint || undefined;
  }

  return {
    async sendCode(phone) {
      const c = await live();
      const sent = await c.sendCode({ apiId: settings.apiId, apiHash: settings.apiHash }, phone);
      return { phoneCodeHash: sent.phoneCodeHash, viaApp: sent.isCodeViaApp };
    },

    async signIn(phone, phoneCodeHash, code) {
      const c = await live();
      const { Api } = await import('telegram/tl/index.js');
      let result: Api.auth.TypeAuthorization;
      try {
        result = await c.invoke(
          new Api.auth.SignIn({ phoneNumber: phone, phoneCodeHash, phoneCode: code }),
        );
      } catch (error) {
        if ((error as { errorMessage?: string }).errorMessage === 'SESSION_PASSWORD_NEEDED')
          return { kind: 'password-needed', hint: await hintOf(c) };
        throw error;
      }
      if (result.className === 'auth.AuthorizationSignUpRequired')
        return { kind: 'sign-up-required' };
      return { kind: 'signed-in', user: userOf(result.user) };
    },

    async passwordHint() {
      return hintOf(await live());
    },

    async checkPassword(password) {
      const c = await live();
      const { Api } = await import('telegram/tl/index.js');
      const { computeCheck } = await import('telegram/Password.js');
      // A fresh account.getPassword each time: its SRP parameters are good for one check.
      const srp = await c.invoke(new Api.account.GetPassword());
      const check = await computeCheck(srp, password);
      const result = await c.invoke(new Api.auth.CheckPassword({ password: check }));
      if (result.className === 'auth.AuthorizationSignUpRequired')
        throw new Error('Telegram asks to sign up after the password, which cannot happen.');
      return userOf(result.user);
    },

    session() {
      if (client) saved = (client.session as unknown as { save(): string }).save();
      return saved;
    },

    async close() {
      const c = client ?? (await opening?.catch(() => undefined));
      client = undefined;
      opening = undefined;
      await c?.destroy();
    },
  };
};

function userOf(user: Api.TypeUser): LoginUser {
  const u = user as Partial<Api.User> & { id: { toString(): string } };
  return {
    id: u.id.toString(),
    ...(u.username ? { username: u.username } : {}),
    ...(u.firstName ? { firstName: u.firstName } : {}),
  };
}
