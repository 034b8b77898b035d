using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Security;
using System.Threading;
using System.Threading.Tasks;

namespace StitchMtls.Commands;

/// <summary>
/// What every StitchMtls cmdlet shares: core failures become ErrorRecords in one place, and work that runs off
/// the pipeline thread reports Verbose, Warning and Progress back through it.
/// </summary>
public abstract class StitchCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource _stopping = new();

    protected CancellationToken StopToken => _stopping.Token;

    protected override void StopProcessing() => _stopping.Cancel();

    protected ErrorRecord ToErrorRecord(StitchMtlsException exception)
    {
        var category = Enum.TryParse(exception.Category.ToString(), out ErrorCategory parsed)
            ? parsed
            : ErrorCategory.NotSpecified;
        var record = new ErrorRecord(exception, exception.ErrorId, category, exception.Target);
        AddWhatIfNote(record);
        return record;
    }

    /// <summary>
    /// Under -WhatIf a failure found while checking (a missing folder, a file that exists) is still reported, so
    /// the rehearsal shows what the real run would hit; the note says that nothing was changed.
    /// </summary>
    private void AddWhatIfNote(ErrorRecord record)
    {
        if (IsSwitchOn("WhatIf"))
        {
            record.ErrorDetails = new ErrorDetails($"{record.Exception.Message} (-WhatIf: nothing was changed; the " +
                "real run would stop with this error.)");
        }
    }

    private bool IsSwitchOn(string name) => MyInvocation.BoundParameters.TryGetValue(name, out object? value)
        && value is SwitchParameter { IsPresent: true };

    /// <summary>One item failed: report it and let the pipeline go on.</summary>
    protected void WriteFailure(StitchMtlsException exception) => WriteError(ToErrorRecord(exception));

    /// <summary>The call cannot proceed at all.</summary>
    protected void ThrowFailure(StitchMtlsException exception) => ThrowTerminatingError(ToErrorRecord(exception));

    /// <summary>
    /// Ends the whole script, not just the statement, so <c>pwsh -File</c> and <c>pwsh -Command</c> exit with a
    /// non-zero code and a scheduled task or runbook shows as failed. ThrowTerminatingError alone would let the
    /// script run on and exit 0.
    /// </summary>
    protected void ThrowScriptTerminating(StitchMtlsException exception)
    {
        ErrorRecord record = ToErrorRecord(exception);
        var qualified = new ErrorRecord(exception, $"{exception.ErrorId},{GetType().FullName}",
            record.CategoryInfo.Category, exception.Target);
        qualified.CategoryInfo.Activity = MyInvocation.MyCommand.Name;
        AddWhatIfNote(qualified);
        throw new ScriptTerminatingException(exception.Message, qualified);
    }

    /// <summary>
    /// True when a confirmation prompt could be answered: not in <c>pwsh -NonInteractive</c>, a service, a
    /// runbook or another host without a user interface. Prompting there fails, so callers refuse instead.
    /// </summary>
    protected bool CanPrompt
    {
        get
        {
            if (!Environment.UserInteractive || Host?.UI is null || Host.Name == "Default Host")
            {
                return false;
            }

            return !Environment.GetCommandLineArgs().Any(argument =>
                argument.Length >= 5 && "-noninteractive".StartsWith(argument, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>
    /// ShouldProcess that refuses with <c>ConfirmationRequired</c> when an explicit <c>-Confirm</c> asks for a
    /// prompt this session cannot show (<c>pwsh -NonInteractive</c>, a runbook), instead of the host's own error.
    /// It hides the base method so every StitchMtls cmdlet gets it without a change of its own.
    /// </summary>
    protected new bool ShouldProcess(string target, string action)
    {
        // Refused before the base method, which would print its "What if:" line ahead of the failed prompt.
        if (IsSwitchOn("Confirm") && !IsSwitchOn("WhatIf") && !CanPrompt)
        {
            ThrowFailure(NoPromptForConfirm(target, action));
        }

        try
        {
            return base.ShouldProcess(target, action);
        }
        catch (Exception ex) when (IsNoPromptFailure(ex))
        {
            ThrowFailure(NoPromptForConfirm(target, action));
            return false;
        }
    }

    private static StitchMtlsException NoPromptForConfirm(string target, string action) => new(
        "ConfirmationRequired", FailureCategory.InvalidOperation, $"{action} on '{target}': this session cannot " +
        "show the prompt -Confirm asks for, so nothing was changed. Leave out -Confirm, or use -Confirm:$false, to " +
        "run it unattended.", target);

    private static bool IsNoPromptFailure(Exception ex) =>
        ex is System.Management.Automation.Host.HostException or PSInvalidOperationException
            or NotImplementedException;

    /// <summary>
    /// The second confirmation of a destructive step, after ShouldProcess: skipped with -Force or an explicit
    /// -Confirm (true or false); refused with <c>ConfirmationRequired</c> where no one can answer a prompt.
    /// </summary>
    protected bool ConfirmDestructive(bool force, string query, string caption)
    {
        if (force || MyInvocation.BoundParameters.ContainsKey("Confirm"))
        {
            return true;
        }

        var cannotPrompt = new StitchMtlsException("ConfirmationRequired", FailureCategory.InvalidOperation,
            $"{caption}: this session cannot show a confirmation prompt, so nothing was changed. Add -Force " +
            "(or -Confirm:$false) to run it unattended.", null);
        if (!CanPrompt)
        {
            ThrowFailure(cannotPrompt);
        }

        try
        {
            return ShouldContinue(query, caption);
        }
        catch (Exception ex) when (IsNoPromptFailure(ex))
        {
            // A host that looked interactive but has no way to ask (some job and runbook hosts).
            ThrowFailure(cannotPrompt);
            return false;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the thread pool while this (pipeline) thread writes what it reports, and
    /// an indeterminate progress bar for <paramref name="activity"/> when the work is slow.
    /// </summary>
    protected T RunWithPipelineLog<T>(Func<IOperationLog, CancellationToken, Task<T>> work, string? activity = null)
    {
        var log = new QueuedLog();
        Task<T> task = Task.Run(() => work(log, StopToken));
        var started = DateTime.UtcNow;
        var progress = activity is null ? null : new ProgressRecord(1, activity, "Working") { PercentComplete = -1 };
        try
        {
            while (!task.Wait(TimeSpan.FromMilliseconds(200)))
            {
                log.Drain(this);
                if (progress is not null)
                {
                    progress.StatusDescription = $"{(DateTime.UtcNow - started).TotalSeconds:0} s elapsed";
                    WriteProgress(progress);
                }
            }
        }
        catch (AggregateException)
        {
            // Rethrown below, unwrapped, after the messages that led to it.
        }

        log.Drain(this);
        if (progress is not null)
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }

        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    /// <summary>
    /// Drops this session's pooled connections and cached tokens of the removed certificate, so a token object
    /// fetched before the removal refuses further use instead of authenticating with the deleted key.
    /// </summary>
    protected void ForgetInSession(string? thumbprint)
    {
        if (thumbprint is null)
        {
            return;
        }

        int forgotten = AccessTokenProvider.Forget(thumbprint);
        if (forgotten > 0)
        {
            WriteVerbose($"Closed {forgotten} connection pool(s) and token(s) of {thumbprint} in this session; " +
                "tokens fetched with it now refuse to be used.");
        }
    }

    /// <summary>Copies a SecureString into a char array the caller must clear after use.</summary>
    protected static char[] Reveal(SecureString? secure)
    {
        if (secure is null || secure.Length == 0)
        {
            return Array.Empty<char>();
        }

        IntPtr buffer = Marshal.SecureStringToGlobalAllocUnicode(secure);
        try
        {
            var chars = new char[secure.Length];
            Marshal.Copy(buffer, chars, 0, chars.Length);
            return chars;
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(buffer);
        }
    }

    /// <summary>
    /// A -CertStoreLocation value as a store: only the personal stores (<c>Cert:\CurrentUser\My</c>,
    /// <c>Cert:\LocalMachine\My</c>) are accepted, because every such parameter writes or looks up a client
    /// certificate; a thumbprint is refused.
    /// </summary>
    /// <exception cref="StitchMtlsException"><c>CertStorePathInvalid</c>.</exception>
    protected static Store.CertificateStorePath ParseStoreLocation(string location) =>
        Store.CertificateStorePath.ParsePersonalStore(location);

    /// <summary>A provider path (relative, ~, PSDrive) as a file-system path; the item need not exist.</summary>
    protected string ToFileSystemPath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    private sealed class QueuedLog : IOperationLog
    {
        private readonly ConcurrentQueue<Action<Cmdlet>> _messages = new();

        public void Verbose(string message) => _messages.Enqueue(cmdlet => cmdlet.WriteVerbose(message));

        public void Warning(string message) => _messages.Enqueue(cmdlet => cmdlet.WriteWarning(message));

        public void Progress(string activity, string status, int percent) => _messages.Enqueue(cmdlet =>
            cmdlet.WriteProgress(new ProgressRecord(2, activity, status) { PercentComplete = percent }));

        public void Drain(Cmdlet cmdlet)
        {
            while (_messages.TryDequeue(out Action<Cmdlet>? write))
            {
                write(cmdlet);
            }
        }
    }
}

/// <summary>
/// A failure that ends the script, the way an error under <c>-ErrorAction Stop</c> does, while keeping the
/// command's own ErrorId and category.
/// </summary>
public sealed class ScriptTerminatingException : ActionPreferenceStopException
{
    private readonly ErrorRecord _errorRecord;

    public ScriptTerminatingException(string message, ErrorRecord errorRecord)
        : base(message)
    {
        _errorRecord = errorRecord;
    }

    public override ErrorRecord ErrorRecord => _errorRecord;
}

/// <summary>An <see cref="IOperationLog"/> for work that runs on the pipeline thread itself.</summary>
internal sealed class DirectLog : IOperationLog
{
    private readonly Cmdlet _cmdlet;

    public DirectLog(Cmdlet cmdlet) => _cmdlet = cmdlet;

    public void Verbose(string message) => _cmdlet.WriteVerbose(message);

    public void Warning(string message) => _cmdlet.WriteWarning(message);

    public void Progress(string activity, string status, int percent) =>
        _cmdlet.WriteProgress(new ProgressRecord(2, activity, status) { PercentComplete = percent });
}
