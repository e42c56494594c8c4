import type { Request } from 'express';

/** Request facts every audit entry carries. */
export interface AuditContext {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/**
 * The one shape of "who did it, from where" that every write takes: `userId` owns the data,
 * `actorId` acted (the user, an admin, or null for the system acting on the user's behalf).
 * The route registry builds it for authenticated handlers; jobs build it with `systemWrite`.
 */
export interface WriteContext {
  userId: string;
  actorId: string | null;
  audit: AuditContext;
}

/**
 * A WriteContext before its owner is known: who acts and from where, when the data is found by
 * the service itself (a role change by email from the admin panel or the command line).
 */
export type Actor = Omit<WriteContext, 'userId'>;

/** The actor's write on `userId`'s data. */
export function writeOn(actor: Actor, userId: string): WriteContext {
  return { userId, actorId: actor.actorId, audit: actor.audit };
}

/** The request facts of `req` (ip as Express resolves it under `trust proxy`, user agent, request id). */
export function requestFacts(req: Request): AuditContext {
  return {
    ip: req.ip ?? null,
    userAgent: req.get('user-agent')?.slice(0, 512) ?? null,
    requestId: (req.res?.locals.requestId as string | undefined) ?? null,
  };
}

/** A write by the user themself, from this request. */
export function userWrite(userId: string, req: Request): WriteContext {
  return { userId, actorId: userId, audit: requestFacts(req) };
}

/** A write the system makes on a user's behalf (scheduled jobs, CLI tools). */
export function systemWrite(userId: string, actorId: string | null = null): WriteContext {
  return writeOn(systemActor(actorId), userId);
}

/** The system or an operator acting from no request (CLI tools; `actorId` null: nobody known). */
export function systemActor(actorId: string | null = null): Actor {
  return { actorId, audit: { ip: null, userAgent: null, requestId: null } };
}
