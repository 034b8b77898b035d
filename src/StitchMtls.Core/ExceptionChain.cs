using System;

namespace StitchMtls;

/// <summary>
/// Walks an exception and its inner exceptions: HttpClient and SslStream wrap the cause that says what went wrong
/// (a refused socket, a TLS alert, a proxy answer) several layers deep.
/// </summary>
internal static class ExceptionChain
{
    /// <summary>The first exception of type <typeparamref name="T"/> in the chain, outermost first.</summary>
    public static T? Find<T>(Exception exception) where T : Exception
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }

        return null;
    }

    /// <summary>The root cause, whose message is usually the one worth showing.</summary>
    public static Exception Innermost(Exception exception)
    {
        Exception current = exception;
        while (current.InnerException is not null)
        {
            current = current.InnerException;
        }

        return current;
    }
}
