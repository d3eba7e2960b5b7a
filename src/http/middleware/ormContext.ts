import { RequestContext } from '@mikro-orm/core';
import type { Middleware } from 'koa';
import type { Orm } from '../../db/orm.ts';

/** A fresh identity map per request: `orm.em` resolves to this request's fork inside handlers. */
export const ormContext =
  (orm: Orm): Middleware =>
  (_ctx, next) =>
    RequestContext.create(orm.em, next);
