/// faultline's version, as `--version` prints it and the proxy's `/version` answers.
public enum FaultlineVersion {
    public static let text = "0.1.0"
}
