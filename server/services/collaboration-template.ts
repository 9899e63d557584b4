import { z } from 'zod';
import { modelName, plainText, wellFormed } from './text-input';

/**
 * A collaboration template: the agents that work on a task in parallel (1–8), the integration
 * that combines their outputs, the review of the integration, and what happens when a step fails
 * or when a person is to approve the agents' work first. Stored as JSON on CollaborationTemplate
 * and, as it was at submit, on the collaboration's job; parsed with these schemas both ways.
 * No server-only imports: the template editor shows these rules too.
 */

export const MAX_AGENTS = 8;
export const STEP_PRIORITIES = ['low', 'normal', 'high'] as const;
/** Long enough for someone to come back from lunch; short ones are for tests and demos. */
export const MAX_APPROVAL_TIMEOUT_SECONDS = 7 * 24 * 3600;

export const stepInput = z.object({
  role: wellFormed(
    z.string().trim().min(1, 'Each step needs a role.').max(60, 'A role must be at most 60 characters.'),
    'A role',
  ),
  systemPrompt: wellFormed(
    z.string().trim().min(1, 'Each step needs a system prompt.').max(4_000, 'A system prompt must be at most 4,000 characters.'),
    'A system prompt',
  ),
  model: modelName('A step’s model'),
  priority: z.enum(STEP_PRIORITIES).default('normal'),
});
export type Step = z.infer<typeof stepInput>;

export const templateInput = z
  .object({
    name: plainText('The template’s name', 80).min(1, 'Name the template.'),
    agents: z.array(stepInput).min(1, 'A template needs at least one agent.').max(MAX_AGENTS, `A template has at most ${MAX_AGENTS} agents.`),
    integrator: stepInput,
    reviewer: stepInput,
    failurePolicy: z.enum(['retry_other_model', 'proceed']).default('proceed'),
    fallbackModel: modelName('The fallback model').nullish(),
    approval: z.boolean().default(false),
    approvalTimeoutSeconds: z
      .number({ error: 'Enter how many seconds to wait for approval.' })
      .int('Wait a whole number of seconds.')
      .min(1, 'Wait at least 1 second for approval.')
      .max(MAX_APPROVAL_TIMEOUT_SECONDS, 'Wait at most 7 days (604,800 seconds) for approval.')
      .default(3600),
    approvalTimeoutAction: z.enum(['proceed', 'cancel']).default('cancel'),
  })
  .refine((t) => t.failurePolicy !== 'retry_other_model' || Boolean(t.fallbackModel), {
    message: 'Retrying on another model needs a fallback model.',
    path: ['fallbackModel'],
  })
  .refine((t) => new Set(t.agents.map((a) => a.role.toLowerCase())).size === t.agents.length, {
    message: 'Give each agent its own role.',
    path: ['agents'],
  });
export type TemplateInput = z.input<typeof templateInput>;
export type Template = z.output<typeof templateInput>;

/** Every model a template names, once each: all must be allowed by the team's tier. */
export function templateModels(template: Template): string[] {
  const steps = [...template.agents, template.integrator, template.reviewer];
  return [...new Set([...steps.map((s) => s.model), ...(template.fallbackModel ? [template.fallbackModel] : [])])];
}

/** The seed's collaboration: three specialists in parallel, an integration, a senior review. */
export function defaultTemplate(model: string): Template {
  return {
    name: 'Architect, UI designer and backend developer',
    agents: [
      {
        role: 'architect',
        systemPrompt:
          'You are a software architect. Describe the components, their responsibilities, the data model and the interfaces between them. Be concrete and brief.',
        model,
        priority: 'high',
      },
      {
        role: 'ui designer',
        systemPrompt:
          'You are a UI designer and frontend developer. Design the screens and write the frontend code (one fenced code block per file) for the task.',
        model,
        priority: 'normal',
      },
      {
        role: 'backend developer',
        systemPrompt:
          'You are a backend developer. Write the server code and the data access (one fenced code block per file) for the task.',
        model,
        priority: 'normal',
      },
    ],
    integrator: {
      role: 'integrator',
      systemPrompt:
        'You integrate the work of several specialists into one coherent solution: resolve their disagreements, keep what fits, and answer with the combined code and a short explanation.',
      model,
      priority: 'normal',
    },
    reviewer: {
      role: 'senior reviewer',
      systemPrompt:
        'You are a senior engineer reviewing an integrated solution. List correctness, security and maintainability issues, most important first, and say whether it is ready to ship.',
      model,
      priority: 'high',
    },
    failurePolicy: 'proceed',
    fallbackModel: null,
    approval: false,
    approvalTimeoutSeconds: 3600,
    approvalTimeoutAction: 'cancel',
  };
}
