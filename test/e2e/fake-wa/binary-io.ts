/**
 * Small helpers to build and read BinaryNodes. Baileys' encoder silently corrupts a stanza
 * whose attribute value is not a string, so every builder here goes through `attrs()`.
 */
import { getBinaryNodeChild, getBinaryNodeChildren } from '@whiskeysockets/baileys'
import type { BinaryNode } from '@whiskeysockets/baileys'
import { SERVER_JID } from './jids.ts'

export type AttrInput = Record<string, string | number | boolean | undefined | null>

export function attrs(input: AttrInput): Record<string, string> {
	const out: Record<string, string> = {}
	for (const [key, value] of Object.entries(input)) {
		if (value !== undefined && value !== null) {
			out[key] = String(value)
		}
	}
	return out
}

export function node(tag: string, attributes: AttrInput = {}, content?: BinaryNode['content']): BinaryNode {
	return content === undefined ? { tag, attrs: attrs(attributes) } : { tag, attrs: attrs(attributes), content }
}

export function child(parent: BinaryNode | undefined, tag: string): BinaryNode | undefined {
	return getBinaryNodeChild(parent, tag)
}

export function childrenOf(parent: BinaryNode | undefined, tag?: string): BinaryNode[] {
	if (!parent || !Array.isArray(parent.content)) {
		return []
	}
	return tag ? getBinaryNodeChildren(parent, tag) : parent.content
}

export function bytesOf(target: BinaryNode | undefined): Buffer | undefined {
	const content = target?.content
	if (content instanceof Uint8Array) {
		return Buffer.from(content)
	}
	if (typeof content === 'string') {
		return Buffer.from(content, 'utf-8')
	}
	return undefined
}

export function childBytes(parent: BinaryNode | undefined, tag: string): Buffer | undefined {
	return bytesOf(child(parent, tag))
}

export function readUIntBE(bytes: Uint8Array | undefined): number | undefined {
	if (!bytes || bytes.length === 0 || bytes.length > 6) {
		return undefined
	}
	return Buffer.from(bytes).readUIntBE(0, bytes.length)
}

export function unixSeconds(ms: number = Date.now()): string {
	return Math.floor(ms / 1000).toString()
}

/** Answers come from the entity that was queried; Baileys addresses the server as '@s.whatsapp.net'. */
function answerFrom(request: BinaryNode): string {
	const to = request.attrs.to
	return !to ? SERVER_JID : to.startsWith('@') ? to.slice(1) : to
}

export function iqResult(request: BinaryNode, content?: BinaryNode[]): BinaryNode {
	return node('iq', { id: request.attrs.id, type: 'result', from: answerFrom(request) }, content)
}

export function iqError(request: BinaryNode, code: number, text: string): BinaryNode {
	return node('iq', { id: request.attrs.id, type: 'error', from: answerFrom(request) }, [node('error', { code, text })])
}
