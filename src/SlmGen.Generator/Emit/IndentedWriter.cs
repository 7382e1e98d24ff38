using System.Text;

namespace SlmGen.Generator.Emit;

/// <summary>Writes C# line by line with an indentation level.</summary>
internal sealed class IndentedWriter
{
    private readonly StringBuilder text = new();
    private int depth;

    public IndentedWriter Line(string line = "")
    {
        if (line.Length > 0)
        {
            text.Append(' ', depth * 4);
        }

        text.Append(line).Append('\n');
        return this;
    }

    public IndentedWriter Open(string line)
    {
        Line(line);
        Line("{");
        depth++;
        return this;
    }

    public IndentedWriter Close(string suffix = "")
    {
        depth--;
        return Line("}" + suffix);
    }

    public IndentedWriter Indent()
    {
        depth++;
        return this;
    }

    public IndentedWriter Outdent()
    {
        depth--;
        return this;
    }

    public override string ToString() => text.ToString();
}
