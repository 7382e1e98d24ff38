using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using Microsoft.CodeAnalysis.Text;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace SlmGen.Generator.Parsing.Yaml;

/// <summary>
/// Turns the text of a spec file into its root mapping, or diagnostics, in one parse. YamlDotNet's
/// representation model recurses once per nesting level, so it reads the parser's events through a guard
/// that refuses, as they arrive, documents nested deeper than <see cref="MaxDepth"/> (flow and block styles
/// alike), aliases to a node that contains them, and keys that are not plain scalars.
/// </summary>
internal static class YamlDocumentLoader
{
    /// <summary>The deepest nesting a spec may have (a spec needs 4: root, layers, a layer, its settings).</summary>
    public const int MaxDepth = 32;

    public static YamlMappingNode? Load(string? text, YamlContext context, CancellationToken ct)
    {
        if (text is null)
        {
            context.Report(DiagnosticDescriptors.YamlSyntax, null, "the file could not be read");
            return null;
        }

        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text.Substring(1); // a byte-order mark read as text; locations add it back
            context.Shift = 1;
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new GuardedParser(new Parser(new StringReader(text)), ct));
        }
        catch (YamlException ex)
        {
            var inner = ex;
            while (inner.InnerException is YamlException deeper)
            {
                inner = deeper;
            }

            var message = inner.Message.Replace("\r", string.Empty).Replace("\n", " ");
            var location = context.Location(inner.Start, inner.End);
            var tab = FirstIndentingTab(text, context.Path);
            if (tab is not null && message.IndexOf("tab", StringComparison.OrdinalIgnoreCase) >= 0)
            {
                location = tab;
                message += " (YAML does not allow tabs for indentation; use spaces)";
            }

            context.Report(DiagnosticDescriptors.YamlSyntax, location, message);
            return null;
        }

        ct.ThrowIfCancellationRequested();
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            context.Report(DiagnosticDescriptors.YamlSyntax, null, "the file holds no model (an empty document)");
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            context.Report(DiagnosticDescriptors.YamlSyntax, context.Location(stream.Documents[1].RootNode), "a spec file holds one model; split the documents into separate files");
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            var node = stream.Documents[0].RootNode;
            context.Report(DiagnosticDescriptors.YamlWrongType, context.Location(node), "the spec", "a mapping of settings (vocab: ..., context: ..., layers: ...)", YamlContext.Describe(node));
            return null;
        }

        return root;
    }

    /// <summary>
    /// YamlDotNet's parser with the structural checks on its events, as the representation model pulls them:
    /// the model never recurses deeper than <see cref="MaxDepth"/>, never sees a cyclic alias or a complex key.
    /// </summary>
    private sealed class GuardedParser : IParser
    {
        private readonly IParser inner;
        private readonly CancellationToken ct;

        // Per open container: null for a sequence, true for a mapping that expects a key, false for one that expects a value.
        private readonly List<bool?> containers = new();
        private readonly List<string?> openAnchors = new();
        private int events;

        public GuardedParser(IParser inner, CancellationToken ct)
        {
            this.inner = inner;
            this.ct = ct;
        }

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            if (!inner.MoveNext())
            {
                return false;
            }

            if ((++events & 0xFFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }

            Check(inner.Current!);
            return true;
        }

        private void Check(ParsingEvent current)
        {
            if (current is NodeEvent or AnchorAlias && containers.Count > 0 && containers[containers.Count - 1] is bool expectingKey)
            {
                if (expectingKey && current is not Scalar)
                {
                    throw new YamlException(current.Start, current.End,
                        "a key must be a plain name (complex keys, aliases and lists or mappings as keys are not part of a spec)");
                }

                containers[containers.Count - 1] = !expectingKey;
            }

            switch (current)
            {
                case AnchorAlias alias when openAnchors.Contains(alias.Value.Value):
                    throw new YamlException(alias.Start, alias.End, $"the alias *{alias.Value.Value} refers to a node that contains it (a cycle)");

                case MappingStart or SequenceStart:
                    if (containers.Count == MaxDepth)
                    {
                        throw new YamlException(current.Start, current.End,
                            $"the document nests deeper than {MaxDepth} levels; a spec needs 4 (settings, layers, a layer, its settings)");
                    }

                    containers.Add(current is MappingStart ? true : null);
                    var anchor = ((NodeEvent)current).Anchor;
                    openAnchors.Add(anchor.IsEmpty ? null : anchor.Value);
                    break;

                case MappingEnd or SequenceEnd:
                    containers.RemoveAt(containers.Count - 1);
                    openAnchors.RemoveAt(openAnchors.Count - 1);
                    break;
            }
        }
    }

    /// <summary>The first tab in a line's leading white space, where YAML refuses it.</summary>
    private static LocationInfo? FirstIndentingTab(string text, string path)
    {
        var line = 0;
        var lineStart = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n')
            {
                line++;
                lineStart = i + 1;
            }
            else if (c == '\t')
            {
                var prefix = text.Substring(lineStart, i - lineStart);
                if (prefix.Trim().Length == 0 || prefix.TrimEnd().EndsWith("-", StringComparison.Ordinal))
                {
                    var pos = new LinePosition(line, i - lineStart);
                    return new LocationInfo(path, new TextSpan(i, 1), new LinePositionSpan(pos, new LinePosition(line, pos.Character + 1)));
                }
            }
        }

        return null;
    }
}
