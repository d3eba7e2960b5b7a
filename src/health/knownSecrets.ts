import type { EntityManager } from '@mikro-orm/core';
import { apiKeySealContext, ModelProvider } from '../db/entities/ModelProvider.ts';
import { readMcpServers } from '../mcp/McpServerConfig.ts';
import { Redactor } from '../secrets/Redactor.ts';
import { type SecretBox, UnreadableSecretError } from '../secrets/SecretBox.ts';

/**
 * Every secret the service sends somewhere, as one Redactor: the built-in provider's key, the
 * configured providers' keys and every registered MCP server's header values. The health report
 * quotes outside services' errors, so it is redacted with all of them. Reading them costs two
 * small queries; when the database can't be read the environment's key is still hidden.
 */
export async function knownSecrets(
  em: EntityManager,
  box: SecretBox,
  builtInKey: string | undefined,
): Promise<Redactor> {
  const [providers, servers] = await Promise.all([
    em.find(ModelProvider, { apiKeySealed: { $ne: null } }),
    readMcpServers(em, box, { enabledOnly: false }),
  ]);
  const keys = providers.map((provider) => {
    try {
      return box.open(provider.apiKeySealed!, apiKeySealContext(provider.id));
    } catch (error) {
      if (error instanceof UnreadableSecretError) return null;
      throw error;
    }
  });
  return Redactor.of([builtInKey, ...keys, ...servers.flatMap((server) => Object.values(server.headers))]);
}

/** Only what the environment holds: when the stored secrets can't be read. */
export const environmentSecrets = (builtInKey: string | undefined): Redactor => Redactor.of([builtInKey]);
