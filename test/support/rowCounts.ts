import pg from 'pg';

/**
 * Row counts of every table in a test database's public schema (the migrations table
 * excluded), so a test can prove a refused request wrote nothing anywhere.
 */
export class RowCounts {
  private readonly client: pg.Client;

  private constructor(client: pg.Client) {
    this.client = client;
  }

  static async connect(databaseUrl: string): Promise<RowCounts> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    return new RowCounts(client);
  }

  async snapshot(): Promise<Record<string, number>> {
    const tables = await this.client.query<{ name: string }>(
      `select table_name as name from information_schema.tables
       where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like 'mikro_orm%'
       order by table_name`,
    );
    const union = tables.rows
      .map(({ name }) => `select '${name}' as name, count(*)::int as rows from "${name}"`)
      .join(' union all ');
    const counts = await this.client.query<{ name: string; rows: number }>(union);
    return Object.fromEntries(counts.rows.map(({ name, rows }) => [name, rows]));
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
