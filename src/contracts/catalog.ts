import type pg from 'pg';

// The live shape of warehouse tables, read from pg_catalog: what a contract's schema section is derived from
// (`contracts export`) and checked against (`contracts test`, the drift check). Partitions are read through
// their parent, so dw.fact_sensor_reading is one table whatever its months.

export interface CatalogColumn {
  name: string;
  /** format_type(): `bigint`, `timestamp with time zone`, `double precision`, `ltree`… */
  physicalType: string;
  notNull: boolean;
  /** 1-based position in the primary key; null when the column is not part of it. */
  primaryKeyPosition: number | null;
  /** 1-based position in the partition key; null when the table is not partitioned by it. */
  partitionKeyPosition: number | null;
  comment: string | null;
}

export interface CatalogTable {
  schema: string;
  name: string;
  comment: string | null;
  columns: CatalogColumn[];
}

/**
 * The tables `names` of `schema` that exist, in the order given, each with its columns in their order; a name
 * with no table is left out (the caller reports it). Dropped columns and system columns are not listed.
 */
export async function readCatalog(
  db: pg.Pool | pg.PoolClient,
  schema: string,
  names: readonly string[],
): Promise<CatalogTable[]> {
  const { rows } = await db.query<{
    table_name: string;
    table_comment: string | null;
    column_name: string;
    physical_type: string;
    not_null: boolean;
    pk_position: number | null;
    part_position: number | null;
    column_comment: string | null;
  }>(
    `SELECT c.relname AS table_name, obj_description(c.oid, 'pg_class') AS table_comment,
            a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS physical_type, a.attnotnull AS not_null,
            array_position(pk.conkey, a.attnum) AS pk_position,
            (SELECT k.i FROM unnest(pt.partattrs::int2[]) WITH ORDINALITY AS k(attnum, i) WHERE k.attnum = a.attnum)::int
              AS part_position,
            col_description(c.oid, a.attnum) AS column_comment
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
     LEFT JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
     WHERE n.nspname = $1 AND c.relname = ANY($2) AND c.relkind IN ('r', 'p', 'v', 'm')
     ORDER BY c.relname, a.attnum`,
    [schema, names],
  );
  const tables = new Map<string, CatalogTable>();
  for (const r of rows) {
    let table = tables.get(r.table_name);
    if (!table) {
      table = { schema, name: r.table_name, comment: r.table_comment, columns: [] };
      tables.set(r.table_name, table);
    }
    table.columns.push({
      name: r.column_name,
      physicalType: r.physical_type,
      notNull: r.not_null,
      primaryKeyPosition: r.pk_position,
      partitionKeyPosition: r.part_position,
      comment: r.column_comment,
    });
  }
  return names.flatMap((n) => tables.get(n) ?? []);
}
