# Inputs of the StreamQuery module. Everything about the packs, the
# schedules, the Step Functions timings and the Lambda settings comes from
# conf/scheduled_queries.json (var.config_file); the variables below say
# where things are and override what the file cannot know.

variable "prefix" {
  description = "Prefix of every resource name (letters, digits, _ and -), e.g. the StreamAlert prefix."
  type        = string
  default     = "streamquery"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,32}$", var.prefix))
    error_message = "prefix must be 1 to 32 of A-Z a-z 0-9 _ -."
  }
}

variable "config_file" {
  description = "Path of scheduled_queries.json: packs, schedules, sfn_timeout_secs, sfn_wait_secs, lambda_config and athena settings are read from it. Use the file that was packaged (make package copies conf/)."
  type        = string
  default     = null
}

variable "package_file" {
  description = "Path of the Lambda package built by `make package`."
  type        = string
  default     = null
}

variable "athena_database" {
  description = "Athena (Glue) database the queries read; overrides athena.database of the configuration file. The function gets it as ATHENA_DATABASE."
  type        = string
  default     = null
}

variable "athena_results_bucket" {
  description = "S3 bucket where Athena writes query results; overrides athena.results_bucket of the configuration file, but not an explicit athena.output_location, whose bucket the function uses (and IAM grants) in any case. The function gets it as ATHENA_RESULTS_BUCKET."
  type        = string
  default     = null
}

variable "kinesis_stream_name" {
  description = "Kinesis stream that receives the results (StreamAlert's); overrides config.destination_kinesis_stream of the configuration file. The function gets it as KINESIS_STREAM."
  type        = string
  default     = null
}

variable "data_buckets" {
  description = "Names of the S3 buckets holding the data of the tables the queries read; the function may list them and read their objects, nothing more."
  type        = list(string)
  default     = []
}

variable "kms_key_arns" {
  description = "ARNs of KMS keys that encrypt the stream, the results bucket or the data; the function may use them to decrypt and to encrypt what it writes. Empty when nothing uses a customer-managed key."
  type        = list(string)
  default     = []
}

variable "alarm_actions" {
  description = "ARNs (e.g. SNS topics) notified when an alarm fires: function errors, and failed or timed-out executions. Alarms exist only when lambda_config.alarms_enabled is true."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}
