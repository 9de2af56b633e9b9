/** Workflow entry for the worker's bundle. */
export { caseWorkflow } from './case-workflow.js';
