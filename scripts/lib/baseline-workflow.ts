/** The month benchmark's baseline: a workflow that does nothing, so its rate is the server's own ceiling. */
export async function baselineWorkflow(): Promise<void> {}
