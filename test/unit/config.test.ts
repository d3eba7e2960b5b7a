import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { expect } from 'chai';
import { ConfigError, ENVIRONMENT_VARIABLES, loadConfig } from '../../src/config.ts';

describe('config', () => {
  it('has working defaults for the one-process mode', () => {
    const config = loadConfig({});
    expect(config.http.port).to.equal(3000);
    expect(config.database.url).to.equal(undefined);
    expect(config.workers.queues).to.deep.equal(['chat', 'ingest', 'maintenance']);
    expect(config.groq.model).to.equal('llama-3.1-8b-instant');
    expect(config.embeddings).to.include({ model: 'Xenova/all-MiniLM-L6-v2', dimensions: 384 });
    expect(config.maxUploadBytes).to.equal(10 * 1024 * 1024);
  });

  it('parses lists and numbers from their environment strings', () => {
    const config = loadConfig({
      WORKER_QUEUES: ' chat , ingest,chat',
      PORT: '8080',
      CORS_ORIGINS: 'https://a.example,https://b.example',
    });
    expect(config.workers.queues).to.deep.equal(['chat', 'ingest']);
    expect(config.http.port).to.equal(8080);
    expect(config.http.corsOrigins).to.deep.equal(['https://a.example', 'https://b.example']);
  });

  it('names every bad variable in one error', () => {
    const attempt = () =>
      loadConfig({
        PORT: 'eighty',
        WORKER_QUEUES: 'chat,email',
        DATABASE_URL: 'mysql://x',
        LOG_LEVEL: 'loud',
      });
    expect(attempt).to.throw(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as ConfigError).message;
      for (const name of ['PORT', 'WORKER_QUEUES', 'DATABASE_URL', 'LOG_LEVEL'])
        expect(message).to.include(name);
    }
  });

  it('never echoes the value of a rejected secret', () => {
    const secret = 'short-secret-value';
    try {
      loadConfig({ JWT_SECRET: secret, ADMIN_PASSWORD: 'pw' });
      expect.fail('expected a ConfigError');
    } catch (error) {
      expect((error as Error).message)
        .to.include('JWT_SECRET')
        .and.include('ADMIN_PASSWORD');
      expect((error as Error).message).not.to.include(secret);
    }
  });

  it('.env.example documents every setting and loads as it stands', () => {
    const example = parseEnv(readFileSync(new URL('../../.env.example', import.meta.url), 'utf8'));
    expect(Object.keys(example)).to.include.members(ENVIRONMENT_VARIABLES);
    const config = loadConfig(example);
    expect(config.http.port).to.equal(3000);
    expect(config.workers.queues).to.deep.equal(['chat', 'ingest', 'maintenance']);
    expect(config.database.url).to.equal(undefined);
  });
});
