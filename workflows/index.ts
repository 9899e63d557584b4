export { codeGenerationWorkflow } from './code-generation';
export { schedulerWorkflow } from './scheduler-workflow';
