/**
 * Prints the case statechart as a Mermaid `stateDiagram-v2`, generated from `caseMachine.root`,
 * so the diagram in docs/statechart.md never drifts from the machine: `npx tsx scripts/statechart-mermaid.ts`.
 * Targetless transitions (a new signal joining a running outreach) are left out: they change no state.
 */
import { pathToFileURL } from 'node:url';
import type { AnyStateNode } from 'xstate';
import { caseMachine } from '../workflows/case-machine.js';

type Transition = AnyStateNode['always'] extends (infer T)[] | undefined ? T : never;

/** Mermaid ids cannot contain dots, and nested keys repeat (phone.waiting, visit.waiting). */
function mermaidId(node: AnyStateNode): string {
  return node.path.join('_');
}

/** Short guard labels for a drawing people read; unknown guards show their name and params. */
function guardLabel(guard: Transition['guard']): string {
  if (!guard || guard === 'deadlinePassed') return ''; // TIMEOUT already says it
  if (typeof guard === 'string') return `[${guard}]`;
  if (typeof guard === 'function') return '[guard]';
  const params = (
    'params' in guard && guard.params && typeof guard.params === 'object' ? guard.params : {}
  ) as Record<string, unknown>;
  if (guard.type === 'outcomeIs') {
    const kinds = params.kinds as string[];
    return `[${kinds.length > 1 ? 'other outcome' : kinds[0]}]`;
  }
  if (guard.type === 'notReached')
    return params.attemptsLeft ? '[not reached]' : '[not reached, last attempt]';
  return `[${[guard.type, ...Object.values(params).flat()].join(' ')}]`;
}

/** Renders `caseMachine` as Mermaid `stateDiagram-v2` source. */
export function toMermaid(): string {
  const lines = ['stateDiagram-v2'];

  const walk = (node: AnyStateNode, indent: string): void => {
    const children = Object.values(node.states) as AnyStateNode[];
    const initial = node.initial?.target[0];
    if (initial) lines.push(`${indent}[*] --> ${mermaidId(initial)}`);
    for (const child of children) {
      const id = mermaidId(child);
      if (Object.keys(child.states).length > 0) {
        lines.push(`${indent}state ${id} {`);
        walk(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else if (id !== child.key) {
        lines.push(`${indent}state "${child.key}" as ${id}`);
      }
      if (child.type === 'final') lines.push(`${indent}${id} --> [*]`);
    }
    for (const child of children) {
      // One edge per target and guard, naming every event that takes it (TASK_COMPLETED / RESIDENT_CONTACT).
      const edges = new Map<string, { target: string; guard: string; events: Set<string> }>();
      const transitions = [...child.transitions.values()].flat().concat(child.always ?? []);
      for (const t of transitions) {
        for (const target of t.target ?? []) {
          const guard = guardLabel(t.guard);
          const key = `${mermaidId(target)} ${guard}`;
          const edge = edges.get(key) ?? { target: mermaidId(target), guard, events: new Set<string>() };
          if (t.eventType) edge.events.add(t.eventType);
          edges.set(key, edge);
        }
      }
      for (const { target, guard, events } of edges.values()) {
        const label = [[...events].join(' / '), guard].filter(Boolean).join(' ');
        lines.push(`${indent}${mermaidId(child)} --> ${target}${label ? `: ${label}` : ''}`);
      }
    }
  };

  walk(caseMachine.root, '  ');
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(toMermaid());
}

/** The top-level state that `node` belongs to (itself when it is top-level). */
function topLevel(node: AnyStateNode): AnyStateNode {
  let current = node;
  while (current.parent && current.parent !== caseMachine.root) current = current.parent;
  return current;
}

/**
 * A compact drawing for people: top-level states only (named by `labels` when given), one unlabelled
 * arrow per pair of states, left to right. Used on the managers' history page.
 */
export function toMermaidOverview(labels: Record<string, string> = {}): string {
  const lines = ['stateDiagram-v2', '  direction LR'];
  const states = Object.values(caseMachine.root.states) as AnyStateNode[];
  for (const state of states) {
    lines.push(`  state "${(labels[state.key] ?? state.key).replace(/"/g, "'")}" as ${state.key}`);
  }
  const initial = caseMachine.root.initial?.target[0];
  if (initial) lines.push(`  [*] --> ${initial.key}`);
  const edges = new Set<string>();
  const visit = (node: AnyStateNode): void => {
    const transitions = [...node.transitions.values()].flat().concat(node.always ?? []);
    for (const t of transitions) {
      for (const target of t.target ?? []) {
        const from = topLevel(node).key;
        const to = topLevel(target).key;
        if (from !== to) edges.add(`  ${from} --> ${to}`);
      }
    }
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child);
  };
  for (const state of states) visit(state);
  lines.push(...edges);
  for (const state of states) if (state.type === 'final') lines.push(`  ${state.key} --> [*]`);
  return lines.join('\n');
}
