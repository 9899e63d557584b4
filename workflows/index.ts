export { chatWorkflow } from './chat';
export { codeGenerationWorkflow } from './code-generation';
export { pullModelWorkflow } from './pull-model';
export { resourceManagerWorkflow } from './resources/workflow';
export { schedulerWorkflow } from './scheduler/workflow';
