using System;
using System.IO;
using System.Linq;

namespace SlmGen.Generator.Tests.Infrastructure;

/// <summary>Paths inside the repository the tests run from.</summary>
internal static class Repo
{
    public static string Root { get; } = Find();

    public static string Path(params string[] parts) => System.IO.Path.Combine(new[] { Root }.Concat(parts).ToArray());

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "SlmGen.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("SlmGen.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// Approved-file snapshots: the received text must equal Snapshots/NAME. On a mismatch the test fails and
/// writes NAME.received beside it; set SLMGEN_ACCEPT_SNAPSHOTS=1 to accept the received text instead.
/// </summary>
internal static class Snapshot
{
    public static void Match(string name, string received)
    {
        var approvedPath = Repo.Path("tests", "SlmGen.Generator.Tests", "Snapshots", name);
        var receivedPath = approvedPath + ".received";
        received = received.Replace("\r\n", "\n");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(approvedPath)!);
        if (Environment.GetEnvironmentVariable("SLMGEN_ACCEPT_SNAPSHOTS") == "1")
        {
            File.WriteAllText(approvedPath, received);
            File.Delete(receivedPath);
            return;
        }

        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).Replace("\r\n", "\n") : null;
        if (approved == received)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, received);
        Assert.Fail(approved is null
            ? $"No approved snapshot {approvedPath}; the received text is in {receivedPath} (SLMGEN_ACCEPT_SNAPSHOTS=1 accepts it)."
            : $"The generated text differs from {approvedPath}; see {receivedPath} (SLMGEN_ACCEPT_SNAPSHOTS=1 accepts it).");
    }
}
