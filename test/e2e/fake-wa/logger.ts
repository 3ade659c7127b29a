/** One silent pino logger for every Baileys primitive the fake server calls. */
import pino from 'pino'

export const silentLogger = pino({ level: 'silent' })
