import { loadConfig } from './config.ts';
import { ormOptions } from './db/ormOptions.ts';

// Used by the MikroORM CLI (`npx mikro-orm migration:create`), with the same options as the app.
export default await ormOptions(loadConfig());
