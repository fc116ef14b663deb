// Package risk holds Identity Protection's risky users (Graph riskyUser):
// the risk level Conditional Access risk conditions read during sign-in, and
// the administrator actions that change it (dismiss, confirmCompromised, and
// the lab's setRiskLevel, which stands in for Entra's risk detections).
package risk
