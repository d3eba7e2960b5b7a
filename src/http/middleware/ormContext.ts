import { RequestContext } from '@mikro-orm/core';
import type { Orm } from '../../db/orm.ts';
import type { AppMiddleware } from '../state.ts';

/**
 * A fresh identity map per request: inside a request, `orm.em` resolves to this request's own
 * EntityManager (outside any context the global one throws, by design).
 *
 * The rule. Routes use `orm.em`, the request's manager, for what they read and write while
 * answering; what middleware loaded (ctx.state.user) belongs to it too. Take `orm.em.fork()` when
 * the work is not bounded by this request's identity map: (1) code that also runs with no
 * request at all, i.e. the services shared with the socket handlers and jobs (ChatService,
 * DocumentLibrary fork for each call, sockets and workers fork per event or job); (2) work
 * that continues after the response has started (the SSE tail re-reads the message on a fork);
 * (3) a unit of work that must stand alone, a `transactional(...)` or a flush that must not
 * also write whatever else the request's manager holds (signup, login, refresh, admin edits).
 */
export const ormContext =
  (orm: Orm): AppMiddleware =>
  (_ctx, next) =>
    RequestContext.create(orm.em, next);
