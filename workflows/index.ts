export { chatWorkflow } from './chat';
export { codeGenerationWorkflow } from './code-generation';
export { codeReviewWorkflow, reviewItemWorkflow } from './code-review';
export { pullModelWorkflow } from './pull-model';
export { resourceManagerWorkflow } from './resources/workflow';
export { schedulerWorkflow } from './scheduler/workflow';
export { webhookDeliveryWorkflow } from './webhook-delivery';
export { collaborationWorkflow } from './collaboration/workflow';
export { collaborationStepWorkflow } from './collaboration/step';
