export { codeGenerationWorkflow } from './code-generation';
