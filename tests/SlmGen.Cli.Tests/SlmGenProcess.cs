using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace SlmGen.Cli.Tests;

/// <summary>slmgen started as a user starts it (<c>dotnet slmgen.dll …</c>), its output captured, signals sent for real.</summary>
public sealed class SlmGenProcess : IDisposable
{
    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    private readonly Process process;
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();

    private SlmGenProcess(Process process)
    {
        this.process = process;
    }

    /// <summary>The built tool beside the tests.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "slmgen.dll");

    /// <summary>The repository's root (for data/ and specs/).</summary>
    public static string Repository
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SlmGen.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("The repository root is not above the test binaries.");
        }
    }

    public int Id => process.Id;

    public string Stdout
    {
        get
        {
            lock (stdout)
            {
                return stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (stderr)
            {
                return stderr.ToString();
            }
        }
    }

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>Starts <c>slmgen ARGS</c> in <paramref name="workingDirectory"/>.</summary>
    public static SlmGenProcess Start(string workingDirectory, params string[] args) => Start(workingDirectory, new Dictionary<string, string>(), args);

    /// <summary>The folder of compiled specs the tests' runs share (cold at each test run, outside the user's cache).</summary>
    public static string SpecCache { get; } = Path.Combine(Path.GetTempPath(), "slmgen-tests-specs-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Starts <c>slmgen ARGS</c> in <paramref name="workingDirectory"/> with <paramref name="environment"/> set.</summary>
    public static SlmGenProcess Start(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = workingDirectory };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["SLMGEN_DATA"] = Path.Combine(Repository, "data");
        psi.Environment["OMP_NUM_THREADS"] = "1";
        psi.Environment["SLMGEN_SPEC_CACHE"] = SpecCache;
        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }

        var p = new SlmGenProcess(Process.Start(psi)!);
        p.process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (p.stdout) { p.stdout.AppendLine(e.Data); } } };
        p.process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (p.stderr) { p.stderr.AppendLine(e.Data); } } };
        p.process.BeginOutputReadLine();
        p.process.BeginErrorReadLine();
        return p;
    }

    /// <summary>Runs <c>slmgen ARGS</c> to its end (killed and failed after <paramref name="timeout"/>: a hang is a failure).</summary>
    public static SlmGenProcess Run(string workingDirectory, TimeSpan timeout, params string[] args) => Run(workingDirectory, timeout, new Dictionary<string, string>(), args);

    /// <summary>Runs <c>slmgen ARGS</c> with <paramref name="environment"/> set to its end.</summary>
    public static SlmGenProcess Run(string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var p = Start(workingDirectory, environment, args);
        p.WaitForExit(timeout);
        return p;
    }

    /// <summary>Waits for the end; kills the process and throws when it takes longer than <paramref name="timeout"/>.</summary>
    public void WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"slmgen did not end within {timeout.TotalSeconds:0} s.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        process.WaitForExit(); // the output's last lines
    }

    /// <summary>Sends a real signal.</summary>
    public void Signal(int signal)
    {
        if (kill(process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>Waits until <paramref name="ready"/> holds (polled), or fails after <paramref name="timeout"/>.</summary>
    public void WaitUntil(Func<bool> ready, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!ready())
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"slmgen ended (exit {process.ExitCode}) before {what}.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds:0} s.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            }

            Thread.Sleep(20);
        }
    }

    public override string ToString() => $"exit {(process.HasExited ? process.ExitCode : -1)}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        process.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}

/// <summary>A temporary folder removed at the end.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "slmgen-cli-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name, string text)
    {
        var path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
