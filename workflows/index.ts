export { codeGenerationWorkflow } from './code-generation';
export { resourceManagerWorkflow } from './resource-manager';
export { schedulerWorkflow } from './scheduler-workflow';
