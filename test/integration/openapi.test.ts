import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import type Koa from 'koa';
import { OPERATIONS } from '../../src/http/openapi/operations.ts';
import { settingBodySchema } from '../../src/http/routes/admin/schema.ts';
import { isSettingKey } from '../../src/settings/RuntimeSettings.ts';
import { ApiClient } from '../support/ApiClient.ts';
import { startInProcessEdge, type TestEdge } from '../support/inProcessEdge.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueQueuePrefix } from '../support/services.ts';

interface RouterLayer {
  path: string;
  methods: string[];
}

/** Every method + path registered on a @koa/router mounted on the app (nested routers included). */
function registeredRoutes(app: Koa): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  for (const middleware of app.middleware as unknown as { router?: { stack: RouterLayer[] } }[]) {
    for (const layer of middleware.router?.stack ?? []) {
      for (const method of layer.methods) {
        if (method === 'HEAD') continue; // added by the router for every GET
        routes.push({ method: method.toLowerCase(), path: layer.path.replace(/:(\w+)/g, '{$1}') });
      }
    }
  }
  return routes;
}

// Static files of the /docs page and Bull Board's own routes are not API operations.
const NOT_OPERATIONS = [/^\/docs\/\{asset\}$/, /^\/docs\/swagger-ui-init\.js$/, /^\/admin\/queues/];
const ADMIN = { email: 'admin@example.com', password: 'admin password for tests' };

interface DocumentedOperation {
  parameters?: { name: string; in: string; example?: string }[];
  requestBody?: { content: Record<string, { example?: unknown }> };
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

describe('OpenAPI document', () => {
  let edge: TestEdge;
  let document: {
    openapi: string;
    paths: Record<string, Record<string, DocumentedOperation>>;
  };
  const operations = () =>
    Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ method, path, operation })),
    );
  const statuses = (path: string, method: string) => Object.keys(document.paths[path]![method]!.responses);

  before(async () => {
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('openapi'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('openapi'),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    });
    const response = await fetch(`${edge.url}/openapi.json`);
    expect(response.status).to.equal(200);
    document = (await response.json()) as typeof document;
  });
  after(() => edge?.stop());

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).to.equal('3.1.0');
    const result = await new Validator().validate(document as never);
    expect(result.valid, JSON.stringify(result.errors)).to.equal(true);
  });

  it('covers every registered route', () => {
    const routes = registeredRoutes(edge.app).filter(
      ({ path }) => !NOT_OPERATIONS.some((pattern) => pattern.test(path)),
    );
    expect(routes.length).to.be.greaterThan(25);
    const missing = routes.filter(({ method, path }) => !document.paths[path]?.[method]);
    expect(missing).to.deep.equal([]);
  });

  it('takes its request shapes from the zod schemas the routes validate with', () => {
    const signup = document.paths['/api/v1/auth/signup']!.post!.requestBody as {
      content: {
        'application/json': {
          schema: {
            required: string[];
            additionalProperties: boolean;
            properties: Record<string, { maxLength?: number }>;
          };
        };
      };
    };
    const schema = signup.content['application/json'].schema;
    expect(schema.required).to.have.members(['email', 'password']);
    expect(schema.additionalProperties).to.equal(false);
    expect(schema.properties.password!.maxLength).to.equal(256);
    const list = document.paths['/api/v1/conversations']!.get!.parameters!.map((parameter) => parameter.name);
    expect(list).to.have.members(['limit', 'cursor', 'q']);
  });

  it('documents the errors every operation can answer, from its shape, as problem+json', () => {
    for (const { method, path, operation } of operations()) {
      const name = `${method} ${path}`;
      const documented = Object.keys(operation.responses);
      const expected = [
        ...(operation.requestBody ? ['400', '413', '415'] : []),
        ...(operation.parameters?.length ? ['400'] : []),
        ...(operation.security ? ['401'] : []),
        ...(operation.parameters?.some((parameter) => parameter.in === 'path') ? ['404'] : []),
      ];
      expect(documented, name).to.include.members(expected);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400 || status === '503') continue; // readiness's 503 is its own report
        expect(Object.keys(response.content ?? {}), `${name} ${status}`).to.deep.equal([
          'application/problem+json',
        ]);
        expect(response.content!['application/problem+json']!.schema, `${name} ${status}`).to.deep.equal({
          $ref: '#/components/schemas/Problem',
        });
      }
    }
  });

  it('documents the specific answers of each operation', () => {
    expect(statuses('/api/v1/auth/signup', 'post')).to.include.members(['409', '429']);
    expect(statuses('/api/v1/auth/login', 'post')).to.include.members(['401', '429']);
    expect(statuses('/api/v1/auth/refresh', 'post')).to.include.members(['401', '429']);
    expect(statuses('/api/v1/messages/{id}/cancel', 'post')).to.include('409');
    expect(statuses('/api/v1/messages/{id}/regenerate', 'post')).to.include.members(['409', '429']);
    expect(statuses('/api/v1/conversations/{id}/messages', 'post')).to.include.members(['429', '503']);
    expect(statuses('/api/v1/documents', 'post')).to.include.members(['413', '415', '429']);
    expect(statuses('/api/v1/admin/users/{id}', 'patch')).to.include.members(['403', '409']);
    expect(statuses('/api/v1/admin/providers', 'post')).to.include.members(['409', '422']);
    expect(statuses('/api/v1/admin/providers/{id}', 'patch')).to.include.members(['409', '422']);
    // Not rate limited: only the routes behind a limiter say 429.
    expect(statuses('/api/v1/auth/me', 'get')).not.to.include('429');
    expect(statuses('/api/v1/conversations', 'get')).not.to.include('429');
  });

  it('gives every JSON body an example that its route’s own schema accepts', () => {
    const withBodies = OPERATIONS.filter((operation) => operation.body && !operation.consumes);
    expect(withBodies.length).to.be.greaterThan(8);
    for (const operation of withBodies) {
      const name = `${operation.method} ${operation.path}`;
      const media =
        document.paths[operation.path]![operation.method]!.requestBody!.content['application/json']!;
      expect(media.example, name).to.deep.equal(operation.example);
      const parsed = operation.body!.safeParse(operation.example);
      expect(parsed.success, `${name}: ${JSON.stringify(parsed.error?.issues)}`).to.equal(true);
    }
    // The settings route checks the value by the rules of the setting in its path.
    const put = OPERATIONS.find((operation) => operation.path === '/api/v1/admin/settings/{key}')!;
    const key = put.paramExamples!.key!;
    expect(isSettingKey(key)).to.equal(true);
    if (isSettingKey(key)) expect(settingBodySchema(key).safeParse(put.example).success).to.equal(true);
  });

  it('sends no example that the running edge refuses as invalid ("Try it out" as it comes)', async () => {
    const api = new ApiClient(edge.url);
    const user = (await api.signup('openapi')).accessToken;
    const login = await api.request('POST', '/api/v1/auth/login', { body: ADMIN });
    expect(login.status).to.equal(200);
    const admin = login.body.accessToken as string;
    let sent = 0;
    for (const { method, path, operation } of operations()) {
      const media = operation.requestBody?.content['application/json'];
      if (!media) continue;
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => {
        const example = operation.parameters?.find((parameter) => parameter.name === name)?.example;
        expect(example, `${method} ${path}: example for {${name}}`).to.be.a('string');
        return encodeURIComponent(example!);
      });
      const token = path.startsWith('/api/v1/admin') ? admin : operation.security ? user : undefined;
      const response = await api.request(method.toUpperCase(), url, { body: media.example, token });
      expect([400, 413, 415, 422], `${method} ${path}: ${JSON.stringify(response.body)}`).not.to.include(
        response.status,
      );
      sent++;
    }
    expect(sent).to.be.greaterThan(8);
  });

  it('serves the interactive page and its assets from the package, not a CDN', async () => {
    const page = await fetch(`${edge.url}/docs`);
    expect(page.status).to.equal(200);
    const html = await page.text();
    expect(html).not.to.match(/https?:\/\//);
    for (const asset of ['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/swagger-ui-init.js']) {
      expect((await fetch(`${edge.url}${asset}`)).status, asset).to.equal(200);
    }
  });
});
