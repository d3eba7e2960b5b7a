import type { EntityManager } from '@mikro-orm/core';
import type { Config } from '../config.ts';
import { unknownModel } from '../errors/AppError.ts';
import type { ModelCatalog, ModelEntry } from '../llm/ModelCatalog.ts';
import { readSettings } from '../settings/RuntimeSettings.ts';

/**
 * The models a user may pick for a conversation (GET /models), and the check that a chosen one
 * is among them: the REST routes and chat:send both go through it.
 */
export class ModelChoice {
  private readonly models: ModelCatalog;
  private readonly config: Pick<Config, 'groq' | 'retentionDays'>;

  constructor(deps: { models: ModelCatalog; config: Pick<Config, 'groq' | 'retentionDays'> }) {
    this.models = deps.models;
    this.config = deps.config;
  }

  async list(em: EntityManager): Promise<ModelEntry[]> {
    const settings = await readSettings(em, this.config);
    return this.models.list(em, settings.model);
  }

  /** Throws `unknown_model` (422) unless `ref` is an enabled model of the list. */
  async require(em: EntityManager, ref: string): Promise<void> {
    if (!(await this.list(em)).some((model) => model.ref === ref)) throw unknownModel(ref);
  }
}
