import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import type Koa from 'koa';
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

describe('OpenAPI document', () => {
  let edge: TestEdge;
  let document: {
    openapi: string;
    paths: Record<string, Record<string, { parameters?: { name: string }[]; requestBody?: unknown }>>;
  };

  before(async () => {
    edge = await startInProcessEdge({
      DATABASE_URL: await createTestDatabase('openapi'),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniqueQueuePrefix('openapi'),
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
