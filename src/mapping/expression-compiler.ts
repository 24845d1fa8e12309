import { MappingError, type SourceLocation } from './errors.ts';
import { type CompileContext, type Compiled, compileExpression } from './expression/compile.ts';
import { ExpressionFault } from './expression/fault.ts';
import { parseExpression } from './expression/parser.ts';
import type { YamlLocator, YamlPath } from './yaml-locator.ts';

/**
 * Parses and compiles expressions that live at a place in a mapping file, turning every ExpressionFault
 * into a MappingError at the exact `file:line:col` of the offending character.
 */
export class ExpressionCompiler {
  private readonly locator: YamlLocator;
  private readonly mappingId: string;

  constructor(locator: YamlLocator, mappingId: string) {
    this.locator = locator;
    this.mappingId = mappingId;
  }

  compile(text: string, path: YamlPath, ctx: CompileContext): Compiled {
    try {
      return compileExpression(parseExpression(text), ctx);
    } catch (e) {
      if (e instanceof ExpressionFault) throw this.toError(e, path);
      throw e;
    }
  }

  locate(path: YamlPath, pos: number): SourceLocation {
    return this.locator.inScalar(path, pos);
  }

  toError(fault: ExpressionFault, path: YamlPath): MappingError {
    return new MappingError(fault.code, fault.message, {
      location: this.locate(path, fault.pos),
      mappingId: this.mappingId,
    });
  }
}
