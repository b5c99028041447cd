import { randomBytes } from 'node:crypto';
import { type Fields, formatRecords } from '../../protocol/binary/fields.ts';
import { Status } from '../../protocol/codes.ts';
import { normalizeName } from '../../protocol/names.ts';
import { AccountError, type UserRecord } from '../store/accounts.ts';
import { hashSecret, verifySecret } from '../store/crypto.ts';
import {
  mediaPort,
  Refusal,
  type Route,
  type RouteScope,
  required,
  unauthorized,
} from './route.ts';

/** Accounts [B-5, B-9] and contacts [B-6]. */
export const accountRoutes: Record<string, Route> = {
  '/create': (s, _h, d) => create(s, d),
  '/login': (s, _h, d) => login(s, d),
  '/logout': (s, _h, d) => logout(s, d),
  '/delete': (s, h) => remove(s, h),
  '/contacts': (s, h) => contacts(s, h),
  '/add_contact': (s, h, d) => addContact(s, h, d),
  '/remove_contact': (s, h, d) => removeContact(s, h, d),
};

async function create(s: RouteScope, d: Fields): Promise<void> {
  const mail = required(d, 'user_mail');
  const pass = required(d, 'pass');
  if (s.ctx.limits.registration === 'closed') throw new Refusal(Status.FORBIDDEN, 'forbidden');
  // [B-5] extension: an optional `name`; otherwise derived from the e-mail.
  let name: string | undefined;
  if (d.name !== undefined) {
    name = normalizeName(d.name) ?? undefined;
    if (!name) throw new Refusal(Status.FORBIDDEN, 'invalid_name');
  }
  const port = mediaPort(d);
  let user: UserRecord;
  try {
    user = await s.ctx.accounts.createUser({ email: mail, secret: pass, name });
  } catch (err) {
    if (err instanceof AccountError)
      throw new Refusal(Status.FORBIDDEN, err.reason === 'exists' ? 'exists' : 'invalid');
    throw err;
  }
  s.log.info({ user: user.name }, 'user created');
  // The client left during the hash: the account stays, but no session for a dead socket.
  if (s.closing) return;
  const token = s.ctx.accounts.issueToken(user.id);
  s.bind(user, port, () => s.respond(Status.CREATED, { id: user.id, name: user.name, token }));
}

async function login(s: RouteScope, d: Fields): Promise<void> {
  const mail = required(d, 'user_mail');
  const pass = required(d, 'pass');
  const port = mediaPort(d);
  const user = s.findByMail(mail);
  // An unknown user still costs one hash, so timing does not reveal which e-mails exist.
  const ok = user
    ? await s.ctx.accounts.checkSecret(user.id, pass)
    : await verifySecret(pass, await dummyHash());
  if (!user || !ok) throw unauthorized();
  if (s.closing) return;
  // [B-9] a new token at each login.
  const token = s.ctx.accounts.issueToken(user.id);
  s.bind(user, port, () => s.respond(Status.OK, { id: user.id, name: user.name, token }));
}

function logout(s: RouteScope, d: Fields): void {
  const user = s.findByMail(required(d, 'user_mail'));
  const token = required(d, 'token');
  if (!user || !s.ctx.accounts.checkToken(user.id, token)) throw unauthorized();
  s.ctx.accounts.revokeTokens(user.id);
  s.respond(Status.OK, {});
  s.endSessionOf(user.id);
}

function remove(s: RouteScope, h: Fields): void {
  const user = s.auth(h);
  // Committed before the 200 goes out, so an acknowledged delete survives kill -9.
  s.ctx.accounts.deleteUser(user.id);
  s.respond(Status.OK, {});
  s.endSessionOf(user.id);
  s.log.info({ user: user.name }, 'user deleted');
}

// --- contacts [B-6] -------------------------------------------------------------------------

function contacts(s: RouteScope, h: Fields): void {
  const user = s.auth(h);
  const records = s.ctx.accounts.contactsOf(user.id).map((c) => ({
    id: c.user.id,
    name: c.user.name,
    status: c.accepted ? s.ctx.core.stateOf(c.user.id) : 'pending',
  }));
  s.respond(Status.OK, null, formatRecords(records));
}

function addContact(s: RouteScope, h: Fields, d: Fields): void {
  const user = s.auth(h);
  const wanted = required(d, 'contact_email');
  // Extension: a bare name also finds users created by the text dialect (no e-mail).
  const contact = s.findByMail(wanted);
  if (!contact) throw new Refusal(Status.FORBIDDEN, 'unknown');
  try {
    s.ctx.accounts.addContact(user.id, contact.id);
  } catch (err) {
    if (err instanceof AccountError) throw new Refusal(Status.FORBIDDEN, err.reason);
    throw err;
  }
  s.respond(Status.OK, {});
}

function removeContact(s: RouteScope, h: Fields, d: Fields): void {
  const user = s.auth(h);
  const contactId = required(d, 'contact_id');
  if (!s.ctx.accounts.removeContact(user.id, contactId))
    throw new Refusal(Status.FORBIDDEN, 'not_contact');
  s.respond(Status.OK, {});
}

let dummy: Promise<string> | undefined;

/** A password hash of nothing anyone knows, to spend one hash on unknown e-mails [B-9]. */
function dummyHash(): Promise<string> {
  dummy ??= hashSecret(randomBytes(16).toString('base64'));
  return dummy;
}
