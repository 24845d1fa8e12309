// The OpenLineage run event as the hub emits it (docs/lineage.md): the parts of the specification's OpenLineage.json
// (version 2-0-2) and of the facets it uses, checked in tests against schema/openlineage-run-event.schema.json.

export const RUN_EVENT_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
const FACETS = 'https://openlineage.io/spec/facets';
export const FACET_SCHEMA_URLS = {
  columnLineage: `${FACETS}/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet`,
  jobType: `${FACETS}/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet`,
  errorMessage: `${FACETS}/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet`,
  outputStatistics: `${FACETS}/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet`,
} as const;

export type RunEventType = 'START' | 'COMPLETE' | 'FAIL';

/** Every facet names who wrote it and the schema it follows. */
export interface Facet {
  _producer: string;
  _schemaURL: string;
}

/** A dependency of an output column on an input field (ColumnLineageDatasetFacet's InputField). */
export interface InputField {
  namespace: string;
  name: string;
  field: string;
  transformations: Array<{ type: 'DIRECT' | 'INDIRECT'; subtype: string; description?: string }>;
}

/** Column lineage of one output (ColumnLineageDatasetFacet without its base fields). */
export interface ColumnLineage {
  fields: Record<string, { inputFields: InputField[] }>;
  /** Fields that decide which rows exist (explode, where) rather than fill a column. */
  dataset?: InputField[];
}

export type ColumnLineageFacet = Facet & ColumnLineage;

export interface Dataset {
  namespace: string;
  name: string;
  facets?: { columnLineage?: ColumnLineageFacet };
}

export interface OutputDataset extends Dataset {
  outputFacets?: { outputStatistics?: Facet & { rowCount: number } };
}

export interface JobTypeFacet extends Facet {
  processingType: 'BATCH' | 'STREAMING';
  integration: string;
  jobType: string;
}

export interface RunEvent {
  eventType: RunEventType;
  eventTime: string;
  producer: string;
  schemaURL: string;
  run: {
    runId: string;
    facets?: { errorMessage?: Facet & { message: string; programmingLanguage: string; stackTrace?: string } };
  };
  job: { namespace: string; name: string; facets?: { jobType?: JobTypeFacet } };
  inputs: Dataset[];
  outputs: OutputDataset[];
}

/** What a job reads and writes, with column lineage on the outputs: everything a run event says but the run. */
export interface JobLineage {
  namespace: string;
  name: string;
  processingType: 'BATCH' | 'STREAMING';
  inputs: JobDataset[];
  outputs: JobDataset[];
}

/** A dataset of a job, with the column lineage of an output. */
export interface JobDataset {
  namespace: string;
  name: string;
  columnLineage?: ColumnLineage;
}

/** One run's event. `rowCount` goes on every output (the rows the run wrote); `error` makes it a failure's. */
export function runEvent(
  producer: string,
  job: JobLineage,
  run: { runId: string; eventType: RunEventType; time: Date; rowCount?: number; error?: Error },
): RunEvent {
  const facet = (schemaURL: string): Facet => ({ _producer: producer, _schemaURL: schemaURL });
  return {
    eventType: run.eventType,
    eventTime: run.time.toISOString(),
    producer,
    schemaURL: RUN_EVENT_SCHEMA_URL,
    run: {
      runId: run.runId,
      ...(run.error && {
        facets: {
          errorMessage: {
            ...facet(FACET_SCHEMA_URLS.errorMessage),
            message: run.error.message,
            programmingLanguage: 'TYPESCRIPT',
            ...(run.error.stack && { stackTrace: run.error.stack }),
          },
        },
      }),
    },
    job: {
      namespace: job.namespace,
      name: job.name,
      facets: {
        jobType: {
          ...facet(FACET_SCHEMA_URLS.jobType),
          processingType: job.processingType,
          integration: 'IOT_HUB',
          jobType: 'JOB',
        },
      },
    },
    inputs: job.inputs.map((d) => ({ namespace: d.namespace, name: d.name })),
    outputs: job.outputs.map((d) => ({
      namespace: d.namespace,
      name: d.name,
      ...(d.columnLineage && {
        facets: { columnLineage: { ...facet(FACET_SCHEMA_URLS.columnLineage), ...d.columnLineage } },
      }),
      ...(run.rowCount !== undefined && {
        outputFacets: {
          outputStatistics: { ...facet(FACET_SCHEMA_URLS.outputStatistics), rowCount: run.rowCount },
        },
      }),
    })),
  };
}
